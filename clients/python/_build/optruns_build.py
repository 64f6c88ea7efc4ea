"""The package's own PEP 517 build backend: standard library only, so ``pip install ./clients/python``
works where no package index is reachable (a backend from PyPI, such as setuptools, would have to
be downloaded into pip's isolated build environment first).

It builds a pure-Python wheel of ``optruns/`` with the metadata of ``pyproject.toml``'s
``[project]`` table, an sdist, and editable installs (a ``.pth`` file naming the source folder).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "optruns"
TAG = "py3-none-any"


# pyproject.toml ------------------------------------------------------------------------------

def _pyproject() -> Dict[str, Any]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        data = f.read()
    try:
        import tomllib  # noqa: PLC0415 - Python 3.11+

        return tomllib.loads(data.decode("utf-8"))
    except ImportError:
        return _parse_simple_toml(data.decode("utf-8"))


def _parse_simple_toml(text: str) -> Dict[str, Any]:
    """The TOML this project's pyproject uses (tables; strings, string arrays and inline tables of
    strings as values), for Python 3.9 and 3.10, which have no tomllib."""
    root: Dict[str, Any] = {}
    table = root
    pending = ""
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip() if not raw.strip().startswith("#") else ""
        if pending:
            pending += " " + line
            if pending.count("[") > pending.count("]"):
                continue
            line, pending = pending, ""
        if not line:
            continue
        header = re.fullmatch(r"\[([^\[\]]+)\]", line)
        if header:
            table = root
            for part in header.group(1).split("."):
                table = table.setdefault(part.strip().strip('"'), {})
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value.count("[") > value.count("]"):
            pending = line
            continue
        table[key.strip().strip('"')] = _toml_value(value)
    return root


def _toml_value(value: str) -> Any:
    if value.startswith("["):
        return re.findall(r'"([^"]*)"', value)
    if value.startswith("{"):
        return dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', value))
    if value in ("true", "false"):
        return value == "true"
    return value.strip('"')


def _version() -> str:
    with open(os.path.join(ROOT, PACKAGE, "_version.py"), encoding="utf-8") as f:
        match = re.search(r'__version__\s*=\s*"([^"]+)"', f.read())
    if not match:
        raise RuntimeError("optruns/_version.py names no __version__")
    return match.group(1)


def _metadata() -> Tuple[str, str, str]:
    """(distribution name, version, the METADATA file)."""
    project = _pyproject()["project"]
    name, version = project["name"], _version()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    license_ = project.get("license")
    if isinstance(license_, dict) and license_.get("text"):
        lines.append(f"License: {license_['text']}")
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in requirements]
    body = ""
    readme = project.get("readme")
    if isinstance(readme, str) and os.path.exists(os.path.join(ROOT, readme)):
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = "\n" + f.read()
    return name, version, "\n".join(lines) + "\n" + body


def _entry_points() -> str:
    scripts = _pyproject()["project"].get("scripts", {})
    if not scripts:
        return ""
    return "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())


def _package_files() -> List[str]:
    files = []
    for folder, dirs, names in os.walk(os.path.join(ROOT, PACKAGE)):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if name.endswith((".py", ".typed")):
                files.append(os.path.relpath(os.path.join(folder, name), ROOT))
    return sorted(files)


# Wheels --------------------------------------------------------------------------------------

def _dist_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


class _Wheel:
    def __init__(self, path: str) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self._records: List[str] = []

    def add(self, arcname: str, data: bytes) -> None:
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self._records.append(f"{arcname},sha256={digest},{len(data)}")

    def close(self, record: str) -> None:
        self._records.append(f"{record},,")
        self._zip.writestr(zipfile.ZipInfo(record, date_time=(2020, 1, 1, 0, 0, 0)), "\n".join(self._records) + "\n")
        self._zip.close()


def _write_dist_info(wheel: _Wheel, dist_info: str, metadata: str) -> None:
    wheel.add(f"{dist_info}/METADATA", metadata.encode("utf-8"))
    wheel.add(f"{dist_info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: optruns_build\nRoot-Is-Purelib: true\nTag: {TAG}\n".encode())
    entry_points = _entry_points()
    if entry_points:
        wheel.add(f"{dist_info}/entry_points.txt", entry_points.encode())


def _build(wheel_directory: str, editable: bool) -> str:
    name, version, metadata = _metadata()
    base = f"{_dist_name(name)}-{version}"
    filename = f"{base}-{TAG}.whl"
    wheel = _Wheel(os.path.join(wheel_directory, filename))
    if editable:
        wheel.add(f"__editable__.{_dist_name(name)}.pth", (ROOT + "\n").encode())
    else:
        for path in _package_files():
            with open(os.path.join(ROOT, path), "rb") as f:
                wheel.add(path.replace(os.sep, "/"), f.read())
    _write_dist_info(wheel, f"{base}.dist-info", metadata)
    wheel.close(f"{base}.dist-info/RECORD")
    return filename


# PEP 517 / PEP 660 hooks -----------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    return _build(wheel_directory, editable=False)


def build_editable(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                   metadata_directory: Optional[str] = None) -> str:
    return _build(wheel_directory, editable=True)


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    name, version, metadata = _metadata()
    base = f"{_dist_name(name)}-{version}"
    filename = f"{base}.tar.gz"
    files = ["pyproject.toml", "README.md", os.path.join("_build", "optruns_build.py")] + _package_files()
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for path in files:
            tar.add(os.path.join(ROOT, path), arcname=f"{base}/{path}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = metadata.encode("utf-8")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return filename
