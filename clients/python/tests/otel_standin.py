"""A STAND-IN for the ``opentelemetry-api`` package with a recording tracer provider configured. It
is not OpenTelemetry: that package cannot be installed where these tests run (no PyPI, no Debian
package). It offers only the stable surface ``optruns.dspy`` uses — ``trace.get_tracer``,
``Tracer.start_as_current_span`` (a context manager making the span current in this context),
``Span.get_span_context`` (``trace_id``, ``span_id``, ``is_valid``) and ``Span.is_recording`` — and
keeps every ended span, with its parent, so a test can see what nests under what.

``install()`` makes ``import opentelemetry.trace`` find it; ``uninstall()`` removes it again.
"""

from __future__ import annotations

import contextvars
import random
import sys
import threading
import types
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional


class SpanContext:
    def __init__(self, trace_id: int, span_id: int) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.is_valid = trace_id != 0 and span_id != 0


class Span:
    def __init__(self, name: str, context: SpanContext, parent: Optional["Span"], attributes: Dict[str, Any]) -> None:
        self.name = name
        self._context = context
        self.parent = parent
        self.attributes = dict(attributes)
        self.error: Optional[BaseException] = None
        self.thread = threading.current_thread().name

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return True


_current: contextvars.ContextVar[Optional[Span]] = contextvars.ContextVar("otel_standin_span", default=None)
ended: List[Span] = []
_lock = threading.Lock()


class Tracer:
    def __init__(self, name: str) -> None:
        self.name = name

    @contextmanager
    def start_as_current_span(self, name: str, attributes: Optional[Dict[str, Any]] = None) -> Iterator[Span]:
        parent = _current.get()
        trace_id = parent.get_span_context().trace_id if parent is not None else random.getrandbits(128) or 1
        span = Span(name, SpanContext(trace_id, random.getrandbits(64) or 1), parent, attributes or {})
        token = _current.set(span)
        try:
            yield span
        except BaseException as exc:
            span.error = exc
            raise
        finally:
            _current.reset(token)
            with _lock:
                ended.append(span)


def get_tracer(name: str, *args: Any, **kwargs: Any) -> Tracer:
    return Tracer(name)


def install() -> None:
    package = types.ModuleType("opentelemetry")
    trace = types.ModuleType("opentelemetry.trace")
    trace.get_tracer = get_tracer  # type: ignore[attr-defined]
    package.trace = trace  # type: ignore[attr-defined]
    sys.modules["opentelemetry"] = package
    sys.modules["opentelemetry.trace"] = trace
    with _lock:
        ended.clear()


def uninstall() -> None:
    sys.modules.pop("opentelemetry.trace", None)
    sys.modules.pop("opentelemetry", None)
