"""An OpenTelemetry span per evaluated example, when ``opentelemetry-api`` is importable.

DSPy has no OpenTelemetry code of its own, and its evaluation threads carry no OpenTelemetry
context, so the span the adapter opens around a program call is the example's own: LM-call spans
from an instrumentor nest under it and the sample carries its ids. Only the API's stable surface is
used (``trace.get_tracer``, ``Tracer.start_as_current_span``, ``Span.get_span_context``,
``Span.is_recording``). Without OpenTelemetry, or with no tracer provider configured (its spans do
not record), there is no span and the sample's ids stay empty.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Tuple

logger = logging.getLogger("optruns.dspy")

_trace: Any = None  # the opentelemetry.trace module; False once its import failed


def _tracer() -> Any:
    global _trace
    if _trace is None:
        try:
            from opentelemetry import trace  # noqa: PLC0415 - optional

            _trace = trace
        except Exception:  # noqa: BLE001
            _trace = False
    if not _trace:
        return None
    try:
        return _trace.get_tracer("optruns.dspy")
    except Exception:  # noqa: BLE001
        return None


def forget() -> None:
    """Import OpenTelemetry again at the next span (for tests that install or remove it)."""
    global _trace
    _trace = None


class ExampleSpan:
    """The current span around one program call: entered at the call's start, left at its end (DSPy
    calls both module callbacks in the calling thread, around the call)."""

    def __init__(self, name: str, attributes: Dict[str, Any]) -> None:
        self._manager: Any = None
        self.ids: Tuple[Optional[str], Optional[str]] = (None, None)
        tracer = _tracer()
        if tracer is None:
            return
        try:
            self._manager = tracer.start_as_current_span(name, attributes=attributes)
            span = self._manager.__enter__()
            recording = getattr(span, "is_recording", lambda: True)()
            context = span.get_span_context()
            if recording and context is not None and context.is_valid:
                self.ids = (format(context.trace_id, "032x"), format(context.span_id, "016x"))
        except Exception:  # noqa: BLE001 - tracing must never break the evaluation
            logger.debug("optruns: could not start a span", exc_info=True)
            self._manager = None

    def end(self, exception: Optional[BaseException]) -> None:
        manager, self._manager = self._manager, None
        if manager is None:
            return
        try:
            if exception is None:
                manager.__exit__(None, None, None)
            else:
                manager.__exit__(type(exception), exception, exception.__traceback__)
        except Exception:  # noqa: BLE001
            logger.debug("optruns: could not end a span", exc_info=True)
