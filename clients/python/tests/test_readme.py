"""Every block of clients/python/README.md runs as written, in order, against a real gateway: bash
blocks with bash, Python blocks with python3, from a folder laid out like the repository's root.
The DSPy block runs against the DSPy STAND-IN (tests/dspy_standin.py, importable as ``dspy`` here;
not DSPy), which must log no deprecation warning."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Dict, List, Tuple

import support
from support import requires_gateway

TESTS = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.dirname(TESTS)
README = os.path.join(CLIENT, "README.md")

# `import dspy` in the README's DSPy block finds the stand-in; DSPy's warnings go to stderr.
DSPY_SHIM = '''import logging, sys
from dspy_standin import *  # noqa: F401,F403
from dspy_standin import __version__, logger as _logger, reset as _reset

class _Stderr(logging.Handler):
    def emit(self, record):
        print("DSPY " + record.levelname + ": " + record.getMessage(), file=sys.stderr)

_logger.addHandler(_Stderr(logging.WARNING))
_reset()
'''


def readme_blocks() -> List[Tuple[str, str]]:
    """(language, code) of every fenced block, in order."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]


@requires_gateway
class ReadmeTests(unittest.TestCase):
    def setUp(self) -> None:
        self.root = tempfile.mkdtemp(prefix="optruns-readme-")
        os.symlink(os.path.dirname(CLIENT), os.path.join(self.root, "clients"))  # ./clients/python
        shim = os.path.join(self.root, "shim", "dspy")
        os.makedirs(shim)
        with open(os.path.join(shim, "__init__.py"), "w", encoding="utf-8") as f:
            f.write(DSPY_SHIM)
        self.env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith("OPTRUNS_")}
        self.env.update(OPTRUNS_URL=support.URL, OPTRUNS_ADMIN_KEY=support.ADMIN_KEY, PYTHONDONTWRITEBYTECODE="1")

    def tearDown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def run_block(self, language: str, code: str) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if language == "python":
            # The interpreter the install block made, so the installed package is the one imported.
            venv = os.path.join(self.root, ".venv", "bin", "python")
            self.assertTrue(os.path.exists(venv), "the install block comes first")
            if "import dspy" in code:
                env["PYTHONPATH"] = os.pathsep.join([os.path.join(self.root, "shim"), TESTS])
            command = [venv, "-"]
        else:
            # A bash block's exports hold for the blocks after it: print them after the block.
            code += '\nprintf "\\n--env--\\nOPTRUNS_API_KEY=%s\\n" "${OPTRUNS_API_KEY:-}"\n'
            command = ["bash", "-euo", "pipefail", "-s"]
        done = subprocess.run(command, input=code, cwd=self.root, env=env, capture_output=True, text=True, timeout=300)
        message = f"README block failed ({language}):\n{code}\n--- stdout:\n{done.stdout}\n--- stderr:\n{done.stderr}"
        self.assertEqual(done.returncode, 0, message)
        if language == "bash":
            exported = done.stdout.rsplit("--env--\n", 1)[-1]
            key = re.search(r"^OPTRUNS_API_KEY=(\S*)$", exported, re.M)
            if key and key.group(1):
                self.env["OPTRUNS_API_KEY"] = key.group(1)
        return done

    def test_every_block_runs_as_written(self) -> None:
        blocks = readme_blocks()
        self.assertGreaterEqual(len(blocks), 6)
        self.assertEqual({language for language, _ in blocks}, {"bash", "python"})
        outputs = [self.run_block(language, code) for language, code in blocks]
        self.assertTrue(self.env.get("OPTRUNS_API_KEY", "").startswith("ork_"), "the key block exports a project key")
        installed = os.path.join(self.root, ".venv", "bin", "python")
        check = subprocess.run([installed, "-c", "import optruns.dspy, optruns; print(optruns.__file__)"],
                               cwd="/", capture_output=True, text=True, timeout=60)
        self.assertIn(os.path.join(self.root, ".venv"), check.stdout, check.stderr)
        # The Python blocks print a run id and its status; the DSPy block's compile logged no DSPy warning.
        python_outputs = [o for (language, _), o in zip(blocks, outputs) if language == "python"]
        self.assertTrue(python_outputs)
        for output in python_outputs:
            self.assertRegex(output.stdout.strip().splitlines()[-1], r"^[0-9a-f-]{36} completed$")
        dspy_runs = [o for (language, code), o in zip(blocks, outputs) if "import dspy" in code]
        self.assertEqual(len(dspy_runs), 1)
        self.assertNotIn("DSPY WARNING", dspy_runs[0].stderr)
        self.assertNotIn("DSPY ERROR", dspy_runs[0].stderr)

    def test_the_quick_start_of_the_old_readme_would_not_run(self) -> None:
        # The defects issue 15 found: a key taken from nowhere and `inputs=...` (Ellipsis stored as text).
        for _, code in readme_blocks():
            self.assertNotRegex(code, r"Tracker\([^)]*\bapi_key\b")
            self.assertNotIn("...", code.replace("…", ""))
            self.assertNotIn("requires_permission_to_run", code)


if __name__ == "__main__":
    unittest.main()
