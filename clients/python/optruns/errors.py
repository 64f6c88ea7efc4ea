"""Typed errors: what the gateway refused (with its RFC 9457 problem details) and what could not be delivered."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type


class OptRunsError(Exception):
    """Base class of every error this client raises."""


class ApiError(OptRunsError):
    """The gateway answered with an error that retrying will not fix (a 4xx other than 408/429, or a 5xx
    that is not transient). ``problem`` is the RFC 9457 problem-details document as answered."""

    def __init__(
        self,
        status: int,
        problem: Optional[Mapping[str, Any]] = None,
        *,
        method: str = "",
        url: str = "",
        body_text: str = "",
    ) -> None:
        self.status = status
        self.problem: Dict[str, Any] = dict(problem or {})
        self.method = method
        self.url = url
        self.title: Optional[str] = self.problem.get("title")
        self.detail: Optional[str] = self.problem.get("detail")
        raw_errors = self.problem.get("errors") or {}
        self.errors: Dict[str, List[str]] = {
            str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in raw_errors.items()
        } if isinstance(raw_errors, Mapping) else {}
        self.trace_id: Optional[str] = self.problem.get("traceId")
        self.body_text = body_text
        super().__init__(self._describe())

    def _describe(self) -> str:
        head = f"{self.method} {self.url} -> {self.status}".strip()
        what = self.title or "error"
        if self.detail:
            what = f"{what}: {self.detail}"
        elif not self.problem and self.body_text:
            what = f"{what}: {self.body_text[:300]}"
        fields = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in sorted(self.errors.items()))
        return f"{head} {what}" + (f" ({fields})" if fields else "")


class BadRequestError(ApiError, ValueError):
    """400: the request broke a rule; ``errors`` names each offending field (e.g. ``samples[3].score``)."""


ValidationError = BadRequestError


class AuthenticationError(ApiError):
    """401: the API key is missing, wrong or revoked."""


class ForbiddenError(ApiError):
    """403: the key is valid but may not do this (e.g. a project key on an admin endpoint)."""


class NotFoundError(ApiError, LookupError):
    """404: no such run in this key's project (another project's run is not found either)."""


class ConflictError(ApiError):
    """409: the request contradicts the run's state: a write after the run ended, an invalid status
    transition, or a completed iteration re-sent with another score."""


class PayloadTooLargeError(ApiError):
    """413: the body is over the gateway's limit."""


class ServerError(ApiError):
    """A 5xx answer that is not retried (500, 501 …): a fault in the service."""


class UnavailableError(OptRunsError):
    """The gateway stayed unreachable or overloaded (network errors, 408, 429, 502, 503, 504) until the
    retry deadline passed. Nothing is known to be lost: the request can be repeated safely."""

    def __init__(self, message: str, *, last_status: Optional[int] = None, last_error: Optional[BaseException] = None,
                 attempts: int = 0) -> None:
        super().__init__(message)
        self.last_status = last_status
        self.last_error = last_error
        self.attempts = attempts


_BY_STATUS: Dict[int, Type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
}


def error_for(status: int, problem: Optional[Mapping[str, Any]], *, method: str, url: str, body_text: str = "") -> ApiError:
    """The typed error for a non-retryable answer."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    return cls(status, problem, method=method, url=url, body_text=body_text)


class RunEndedError(OptRunsError):
    """This client already ended the run (completed, failed or cancelled): it takes no more writes."""
