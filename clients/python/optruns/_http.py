"""HTTP with retries: keep-alive connections per thread, JSON in and out, backoff that honours Retry-After.

Every write of the REST contract is safe to repeat (runs are created with a client id, iterations and
samples carry their own keys, status changes repeat as no-ops), so any request is retried on network
errors and on 408, 429, 502, 503 and 504 until a deadline. Other error answers raise at once.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import random
import threading
import time
import urllib.parse
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

from ._version import __version__
from .errors import ApiError, UnavailableError, error_for

logger = logging.getLogger("optruns")

RETRYABLE_STATUSES = frozenset({408, 429, 502, 503, 504})

QueryValue = Union[str, int, float, bool, Sequence[Union[str, int, float]]]


class Response:
    """A successful answer: status, parsed JSON body (None when empty) and headers."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers


class Transport:
    """Sends JSON requests to one gateway with one bearer key. Thread-safe: each thread keeps its own
    keep-alive connection."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        retry_timeout: float = 300.0,
        backoff_base: float = 0.25,
        backoff_max: float = 10.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"url must be http(s)://host[:port][/prefix], not {base_url!r}")
        if not api_key:
            raise ValueError("api_key is required")
        self.base_url = base_url.rstrip("/")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._prefix = parsed.path.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.retry_timeout = retry_timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._local = threading.local()
        # Every thread's connection, so that those of finished threads (evaluation threads come and
        # go) are closed rather than left to the garbage collector.
        self._connections: Dict[threading.Thread, http.client.HTTPConnection] = {}
        self._connections_lock = threading.Lock()

    def _connection(self) -> Tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        self._local.conn = conn
        with self._connections_lock:
            finished = [t for t in self._connections if not t.is_alive()]
            for thread in finished:
                _close_quietly(self._connections.pop(thread))
            self._connections[threading.current_thread()] = conn
        return conn, False

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._connections_lock:
                if self._connections.get(threading.current_thread()) is conn:
                    del self._connections[threading.current_thread()]
            _close_quietly(conn)

    def close(self) -> None:
        """Closes every thread's connection; a later request opens a new one."""
        with self._connections_lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            _close_quietly(conn)
        self._local = threading.local()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Optional[Mapping[str, QueryValue]] = None,
        retry_timeout: Optional[float] = None,
    ) -> Response:
        """Sends one request, retrying transient failures until ``retry_timeout`` seconds have passed.

        Raises a subclass of :class:`~optruns.errors.ApiError` for a final error answer and
        :class:`~optruns.errors.UnavailableError` when the deadline passes.
        """
        target = self._prefix + path
        if query:
            target += "?" + urllib.parse.urlencode(
                [(k, v) for k, vs in query.items() for v in (vs if isinstance(vs, (list, tuple)) else [vs])]
            )
        payload = None if body is None else json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"optruns-python/{__version__}",
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        url = self.base_url + path
        deadline = time.monotonic() + (self.retry_timeout if retry_timeout is None else retry_timeout)
        attempt = 0
        while True:
            attempt += 1
            conn, reused = self._connection()
            try:
                conn.request(method, target, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                status = response.status
                response_headers = {k.lower(): v for k, v in response.getheaders()}
                if response.will_close:
                    self._drop_connection()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                # A keep-alive connection the server closed while idle fails on first use: retry at once.
                if reused and attempt == 1:
                    continue
                self._pause(attempt, None, deadline, method, url, last_error=exc, last_status=None)
                continue

            if 200 <= status < 300:
                return Response(status, _parse_json(raw), response_headers)

            problem = _parse_json(raw)
            if status in RETRYABLE_STATUSES:
                retry_after = _retry_after(response_headers.get("retry-after"))
                self._pause(attempt, retry_after, deadline, method, url, last_error=None, last_status=status)
                continue
            text = raw.decode("utf-8", "replace") if not isinstance(problem, dict) else ""
            raise error_for(status, problem if isinstance(problem, dict) else None, method=method, url=url, body_text=text)

    def download(self, path: str, query: Mapping[str, QueryValue], destination: Any, chunk_size: int = 1 << 16) -> int:
        """Streams a response body into ``destination`` (a binary file) without holding it in memory; returns the
        bytes written. Not retried: a partial download is the caller's to repeat."""
        target = self._prefix + path + "?" + urllib.parse.urlencode(list(query.items()))
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout) if self._scheme == "http" \
            else http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        try:
            conn.request("GET", target, headers={"Authorization": f"Bearer {self._api_key}",
                                                  "User-Agent": f"optruns-python/{__version__}"})
            response = conn.getresponse()
            if not 200 <= response.status < 300:
                raw = response.read()
                problem = _parse_json(raw)
                raise error_for(response.status, problem if isinstance(problem, dict) else None, method="GET",
                                url=self.base_url + path, body_text="" if isinstance(problem, dict) else raw.decode("utf-8", "replace"))
            written = 0
            while chunk := response.read(chunk_size):
                destination.write(chunk)
                written += len(chunk)
            return written
        finally:
            conn.close()

    def _pause(
        self,
        attempt: int,
        retry_after: Optional[float],
        deadline: float,
        method: str,
        url: str,
        *,
        last_error: Optional[BaseException],
        last_status: Optional[int],
    ) -> None:
        backoff = min(self.backoff_max, self.backoff_base * (2 ** min(attempt - 1, 16)))
        # Full jitter spreads the retries of many workers; Retry-After is a floor, not a suggestion.
        wait = random.uniform(backoff / 2, backoff)
        if retry_after is not None:
            wait = retry_after + random.uniform(0, min(0.25, retry_after / 4 + 0.05))
        remaining = deadline - time.monotonic()
        reason = f"HTTP {last_status}" if last_status is not None else f"{type(last_error).__name__}: {last_error}"
        if remaining <= 0 or wait > remaining + 0.5:
            raise UnavailableError(
                f"{method} {url} gave up after {attempt} attempts ({reason})",
                last_status=last_status,
                last_error=last_error,
                attempts=attempt,
            )
        if attempt == 1 or attempt % 10 == 0:
            logger.warning("optruns: %s %s failed (%s); retrying in %.2f s", method, url, reason, wait)
        time.sleep(max(0.0, min(wait, remaining)))


def _close_quietly(conn: http.client.HTTPConnection) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - closing a broken socket may fail; it is gone either way
        pass


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; capped at 5 minutes."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, min(seconds, 300.0))


__all__ = ["Transport", "Response", "ApiError", "UnavailableError", "RETRYABLE_STATUSES"]
