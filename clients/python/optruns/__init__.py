"""OptimizationRuns client: track prompt-optimization runs, their trials and every evaluated example.

    from optruns import Tracker

    tracker = Tracker("http://localhost:8080", api_key)
    with tracker.start_run("qa-mipro", "miprov2", {"auto": "light"}) as run:
        run.log_iteration(1, 0.41, kind="baseline")
        run.log_sample(1, example_id="ex-1", score=1.0, latency_ms=812)

Standard library only. ``optruns.dspy`` connects DSPy optimizers; ``python -m optruns.simulate``
plays MIPROv2-shaped runs against a gateway.
"""

from ._version import __version__
from .client import Admin, Run, Tracker
from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OptRunsError,
    PayloadTooLargeError,
    RunEndedError,
    ServerError,
    UnavailableError,
    ValidationError,
)

__all__ = [
    "__version__",
    "Tracker",
    "Run",
    "Admin",
    "OptRunsError",
    "ApiError",
    "BadRequestError",
    "ValidationError",
    "AuthenticationError",
    "ForbiddenError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "ServerError",
    "UnavailableError",
    "RunEndedError",
]
