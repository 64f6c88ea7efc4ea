"""The gateway the tests talk to, and fresh projects for them.

Environment (scripts/test sets it):
  OPTRUNS_TEST_URL           the gateway's base URL, e.g. http://127.0.0.1:8380
  OPTRUNS_TEST_ADMIN_KEY     its admin key
  OPTRUNS_TEST_GATEWAY_DLL   optional: the gateway's dll. When set, the tests start the gateway
                             themselves (``dotnet <dll>``, this process's environment plus
                             ASPNETCORE_URLS from the URL) and may stop and restart it; the silo must
                             already run. Without it the tests use a gateway that is running, and skip
                             the restart test.
  OPTRUNS_TEST_GATEWAY_PIDFILE  optional: where the started gateway's pid is written, so the
                             caller can stop it if this process dies first.
  OPTRUNS_TEST_GATEWAY_LOG   optional: the started gateway's log file.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, Optional, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from optruns import Admin, Tracker  # noqa: E402

URL = os.environ.get("OPTRUNS_TEST_URL", "").rstrip("/")
ADMIN_KEY = os.environ.get("OPTRUNS_TEST_ADMIN_KEY", "")
GATEWAY_DLL = os.environ.get("OPTRUNS_TEST_GATEWAY_DLL", "")
PIDFILE = os.environ.get("OPTRUNS_TEST_GATEWAY_PIDFILE", "")
GATEWAY_LOG = os.environ.get("OPTRUNS_TEST_GATEWAY_LOG", "")


def configured() -> bool:
    return bool(URL and ADMIN_KEY)


def requires_gateway(cls: Any) -> Any:
    """Skips a test class when no gateway is configured; starts the gateway before its tests."""
    if not configured():
        return unittest.skip("no gateway: set OPTRUNS_TEST_URL and OPTRUNS_TEST_ADMIN_KEY (scripts/test does)")(cls)
    original = cls.__dict__.get("setUpClass")

    @classmethod  # type: ignore[misc]
    def setUpClass(klass: Any) -> None:  # noqa: N802
        gateway.ensure_running()
        if original is not None:
            original.__func__(klass)
        else:
            super(cls, klass).setUpClass()

    cls.setUpClass = setUpClass
    return cls


def ready(timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(URL + "/health/ready", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Gateway:
    """The gateway process, when these tests own it."""

    def __init__(self) -> None:
        self._process: Optional[subprocess.Popen] = None
        self._lock = threading.Lock()
        self._log: Any = None
        self._failure: Optional[str] = None

    @property
    def restartable(self) -> bool:
        return bool(GATEWAY_DLL)

    def ensure_running(self, timeout: float = 90.0) -> None:
        with self._lock:
            if self._failure is not None:
                raise RuntimeError(self._failure)  # fail fast: the first class already waited
            try:
                if GATEWAY_DLL and (self._process is None or self._process.poll() is not None):
                    self._start()
                self._wait_ready(timeout)
            except RuntimeError as exc:
                self._failure = str(exc)
                raise

    def _start(self) -> None:
        env = dict(os.environ)
        env["ASPNETCORE_URLS"] = URL
        env["OPTRUNS_ADMIN_KEY"] = ADMIN_KEY
        if self._log is None:
            self._log = open(GATEWAY_LOG, "ab") if GATEWAY_LOG else subprocess.DEVNULL
        self._process = subprocess.Popen(["dotnet", GATEWAY_DLL], env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        if PIDFILE:
            with open(PIDFILE, "w") as f:
                f.write(str(self._process.pid))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self._process.returncode}; see {GATEWAY_LOG or 'its output'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway at {URL} was not ready within {timeout} s")
            time.sleep(0.2)

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if PIDFILE and os.path.exists(PIDFILE):
            os.remove(PIDFILE)

    def restart_after(self, seconds: float) -> threading.Thread:
        """Stops the gateway now and starts it again ``seconds`` later, in the background."""
        self.stop()

        def later() -> None:
            time.sleep(seconds)
            self.ensure_running()

        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        return thread


gateway = Gateway()
atexit.register(gateway.stop)


def new_project(name: str = "python-tests") -> Tuple[str, str]:
    """A fresh project and a key for it: (project id, key)."""
    admin = Admin(URL, ADMIN_KEY)
    try:
        project = admin.create_project(f"{name}-{uuid.uuid4().hex[:8]}")
        key = admin.create_api_key(project["id"], "tests")
    finally:
        admin.close()
    return project["id"], key["key"]


_trackers: list = []


def new_tracker(**options: Any) -> Tracker:
    """A tracker for a fresh project (closed when the tests end)."""
    _, key = new_project()
    tracker = Tracker(URL, key, **options)
    _trackers.append(tracker)
    return tracker


def keep(tracker: Tracker) -> Tracker:
    """Closes ``tracker`` when the tests end."""
    _trackers.append(tracker)
    return tracker


def close_trackers() -> None:
    while _trackers:
        _trackers.pop().close(timeout=5)


atexit.register(close_trackers)


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def all_samples(tracker: Tracker, run_id: str, **query: Any) -> list:
    return list(tracker.iter_samples(run_id, **query))


def count_outcomes(outcomes: Dict[Any, str]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


class LossyProxy:
    """A one-request-per-connection HTTP proxy in front of the gateway that forwards every request
    but, for every ``drop_every``-th request whose path contains ``path_part``, closes the client's
    connection instead of returning the answer: the write is committed, its acknowledgement lost —
    the case a retry must not double-count."""

    def __init__(self, upstream: str, *, path_part: str = "/samples", drop_every: int = 2) -> None:
        import socket
        import urllib.parse

        parsed = urllib.parse.urlsplit(upstream)
        self._upstream = (parsed.hostname, parsed.port or 80)
        self._path_part = path_part.encode()
        self._drop_every = drop_every
        self._matched = 0
        self.dropped = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: Any) -> None:
        import socket

        try:
            head, body = self._read_request(client)
            if head is None:
                return
            request_line = head.split(b"\r\n", 1)[0]
            lines = [line for line in head.split(b"\r\n")[1:] if line and not line.lower().startswith(b"connection:")]
            upstream_request = b"\r\n".join([request_line, *lines, b"Connection: close", b"", b""]) + body
            with socket.create_connection(self._upstream, timeout=60) as upstream:
                upstream.sendall(upstream_request)
                chunks = []
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
            drop = False
            if self._path_part in request_line:
                with self._lock:
                    self._matched += 1
                    drop = self._matched % self._drop_every == 0
                    if drop:
                        self.dropped += 1
            if not drop:
                client.sendall(b"".join(chunks))
                with self._lock:
                    self.forwarded += 1
        except OSError:
            pass
        finally:
            client.close()

    @staticmethod
    def _read_request(client: Any) -> Tuple[Optional[bytes], bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return None, b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        return head, body
