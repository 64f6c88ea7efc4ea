"""The tracker and its runs: the REST contract of /api/optimization as Python calls.

Samples are queued per run and sent by a background thread in batches (by size and by time); the
queue is bounded, so a caller that outruns the gateway waits instead of growing memory. Iterations,
progress and status changes are sent at once. Every request is retried on network errors, 408, 429
and 5xx-unavailable answers (honouring Retry-After) — safe, because a run is created with a client id,
an iteration is keyed by its number and a sample by (iteration, sample index).
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import traceback
import uuid
import weakref
from types import TracebackType
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Type

from . import _values as v
from ._http import Transport
from .errors import ApiError, NotFoundError, ConflictError, OptRunsError, RunEndedError, UnavailableError

logger = logging.getLogger("optruns")

OPTIMIZER_TYPES = (
    "miprov2", "bootstrap_fewshot", "bootstrap_fewshot_random_search", "copro", "gepa", "simba", "custom",
)
ITERATION_KINDS = ("baseline", "minibatch", "full")
MAX_BATCH = 5_000

_SAMPLE_FIELDS = frozenset({
    "iteration", "sample_index", "example_id", "inputs", "expected", "prediction", "score", "success", "error",
    "latency_ms", "prompt_tokens", "completion_tokens", "cost_usd", "trace_id", "span_id", "percent",
})

# Descriptive fields of a run: Python name -> contract name.
_RUN_FIELDS = {
    "run_name": "runName", "description": "description", "tags": "tags", "metadata": "metadata",
    "program_name": "programName", "dataset_name": "datasetName", "metric_name": "metricName",
    "task_model": "taskModel", "prompt_model": "promptModel", "total_iterations": "totalIterations",
    "baseline_score": "baselineScore",
}


class Tracker:
    """A connection to one OptimizationRuns gateway with one project API key.

    Thread-safe; one tracker serves any number of runs at once. ``close()`` (also run at interpreter
    exit) sends everything still queued.

    :param url: the gateway, e.g. ``http://localhost:8080``
    :param api_key: a project key (``Authorization: Bearer …``)
    :param batch_size: samples per request (at most 5,000)
    :param flush_interval: seconds a sample may wait for its batch to fill
    :param max_queued: samples a run may hold unsent before ``log_sample`` blocks
    :param heartbeat_interval: seconds between heartbeats of an idle running run
    :param timeout: seconds for one HTTP exchange
    :param retry_timeout: seconds a request keeps being retried before :class:`UnavailableError`
    :param exit_flush_timeout: seconds the exit handler waits for queued samples
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_queued: int = 10_000,
        heartbeat_interval: float = 30.0,
        timeout: float = 30.0,
        retry_timeout: float = 300.0,
        exit_flush_timeout: float = 60.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        if max_queued < batch_size:
            raise ValueError("max_queued must be at least batch_size")
        self.url = url.rstrip("/")
        self._transport = Transport(url, api_key, timeout=timeout, retry_timeout=retry_timeout)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queued = max_queued
        self.heartbeat_interval = heartbeat_interval
        self.exit_flush_timeout = exit_flush_timeout
        self._runs: Dict[str, Run] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._heartbeat: Optional[threading.Thread] = None
        _live_trackers.add(self)

    # Runs ---------------------------------------------------------------------------------------

    def start_run(
        self,
        name: str,
        optimizer_type: str = "custom",
        config: Optional[Mapping[str, Any]] = None,
        *,
        run_id: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        description: Optional[str] = None,
        program_name: Optional[str] = None,
        dataset_name: Optional[str] = None,
        metric_name: Optional[str] = None,
        task_model: Optional[str] = None,
        prompt_model: Optional[str] = None,
        baseline_score: Optional[float] = None,
        total_iterations: Optional[int] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        created_by: Optional[str] = None,
        percent: bool = False,
        start: bool = True,
    ) -> "Run":
        """Creates a run (idempotently: a retry of the create reuses the same client-chosen id) and,
        with ``start``, marks it running and keeps it alive with heartbeats.

        ``percent=True`` makes this run's iteration, baseline and final scores percentages (DSPy's
        convention), stored divided by 100. Sample scores are per-example metric values and are only
        converted when a sample says ``percent=True`` itself.
        """
        if optimizer_type not in OPTIMIZER_TYPES:
            raise ValueError(f"optimizer_type must be one of {', '.join(OPTIMIZER_TYPES)}, not {optimizer_type!r}")
        run_id = str(uuid.UUID(str(run_id))) if run_id else str(uuid.uuid4())
        body = v.compact({
            "id": run_id,
            "runName": v.text(name, "name"),
            "optimizerType": optimizer_type,
            "config": v.json_object(config if config is not None else {}, "config"),
            "metadata": v.json_object(metadata, "metadata"),
            "tags": v.tags(tags) if tags is not None else None,
            "description": v.text(description, "description", 4000),
            "programName": v.text(program_name, "program_name"),
            "datasetName": v.text(dataset_name, "dataset_name"),
            "metricName": v.text(metric_name, "metric_name"),
            "taskModel": v.text(task_model, "task_model"),
            "promptModel": v.text(prompt_model, "prompt_model"),
            "baselineScore": v.score(baseline_score, "baseline_score", percent),
            "totalIterations": v.non_negative(total_iterations, "total_iterations", integer=True),
            "createdBy": v.text(created_by, "created_by"),
        })
        data = self._transport.request("POST", "/api/optimization/runs", body).body
        # The run's id derives from the project and this key, so it differs from run_id: use the answered one.
        run = Run(self, data["id"], data, percent=percent)
        if start:
            run.start()
        return run

    def run(self, run_id: str, *, percent: bool = False) -> "Run":
        """A handle on an existing run, e.g. for a worker on another machine that evaluates part of it.
        Nothing is sent until it logs something."""
        run_id = str(uuid.UUID(str(run_id)))
        with self._lock:
            existing = self._runs.get(run_id)
        return existing if existing is not None else Run(self, run_id, None, percent=percent)

    def get_run(self, run_id: str) -> Dict[str, Any]:
        """The run with its live state, as the gateway answers it."""
        return self._transport.request("GET", f"/api/optimization/runs/{run_id}").body

    def list_runs(self, **query: Any) -> Dict[str, Any]:
        """``GET /api/optimization/runs``: keyword arguments are the query (``status``, ``optimizer_type``,
        ``tag`` (a list for several), ``q``, ``sort``, ``limit``, ``cursor`` …) → ``{items, nextCursor}``."""
        params = {_camel(k): v for k, v in query.items() if v is not None}
        return self._transport.request("GET", "/api/optimization/runs", query=params).body

    def iterations(self, run_id: str) -> List[Dict[str, Any]]:
        """The run's iterations in order."""
        return self._transport.request("GET", f"/api/optimization/runs/{run_id}/iterations").body["items"]

    def iter_samples(self, run_id: str, *, iteration: Optional[int] = None, kind: Optional[str] = None,
                     success: Optional[bool] = None, min_score: Optional[float] = None,
                     max_score: Optional[float] = None, example_id: Optional[str] = None,
                     errors_only: bool = False, page_size: int = 1000) -> Iterator[Dict[str, Any]]:
        """The run's committed samples in (iteration, sampleIndex) order, fetched a page at a time.

        ``kind`` (baseline, minibatch or full) keeps the samples of the run's iterations of that kind,
        ``example_id`` one example's (exact), ``errors_only`` those that carry an error."""
        query: Dict[str, Any] = v.compact({
            "iteration": iteration, "kind": kind, "success": None if success is None else str(success).lower(),
            "minScore": min_score, "maxScore": max_score, "exampleId": example_id,
            "errorsOnly": "true" if errors_only else None, "limit": page_size,
        })
        while True:
            page = self._transport.request("GET", f"/api/optimization/runs/{run_id}/samples", query=query).body
            yield from page["items"]
            if not page.get("nextCursor"):
                return
            query["cursor"] = page["nextCursor"]

    def compare(self, a: str, b: str, *, a_iteration: Optional[int] = None,
                b_iteration: Optional[int] = None) -> Dict[str, Any]:
        """Per-example comparison of two runs, or two trials of one run (B − A): examples paired by exampleId
        (else a hash of the inputs), improved/regressed/unchanged/onlyA/onlyB counts, the mean score delta with
        a 95 % paired-t interval, McNemar's exact p for success flips, cost/token/latency deltas. Without
        iterations, each run's best full evaluation (else its baseline) is compared."""
        query = v.compact({"a": a, "b": b, "aIteration": a_iteration, "bIteration": b_iteration})
        return self._transport.request("GET", "/api/optimization/compare", query=query).body

    def iter_compared_examples(self, a: str, b: str, *, bucket: Optional[str] = None,
                               a_iteration: Optional[int] = None, b_iteration: Optional[int] = None,
                               page_size: int = 500) -> Iterator[Dict[str, Any]]:
        """The pairs of a comparison (``bucket``: improved, regressed, unchanged, unscored, onlyA or onlyB),
        with both sides' scores, predictions, errors and trace ids, fetched a page at a time."""
        query: Dict[str, Any] = v.compact({"a": a, "b": b, "aIteration": a_iteration, "bIteration": b_iteration,
                                           "bucket": bucket, "limit": page_size})
        while True:
            page = self._transport.request("GET", "/api/optimization/compare/examples", query=query).body
            yield from page["items"]
            if not page.get("nextCursor"):
                return
            query["cursor"] = page["nextCursor"]

    def delete_run(self, run_id: str) -> None:
        self._transport.request("DELETE", f"/api/optimization/runs/{run_id}")

    # Life of the tracker --------------------------------------------------------------------------

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every run's queued samples are acknowledged (see :meth:`Run.flush`)."""
        with self._lock:
            runs = list(self._runs.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in runs:
            run.flush(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def close(self, timeout: Optional[float] = None) -> None:
        """Sends what is queued (waiting at most ``timeout`` seconds), then stops the background
        threads. Runs are not ended: a run that stops hearing from its worker becomes stalled."""
        if self._closed.is_set():
            return
        with self._lock:
            runs = list(self._runs.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in runs:
            try:
                run._sender.close(None if deadline is None else max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # noqa: BLE001 - closing must reach every run
                logger.warning("optruns: run %s: %s", run.id, exc)
        self._closed.set()
        self._transport.close()
        _live_trackers.discard(self)

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # Internals ------------------------------------------------------------------------------------

    def _register(self, run: "Run") -> None:
        with self._lock:
            self._runs[run.id] = run
            if self._heartbeat is None and self.heartbeat_interval > 0:
                self._heartbeat = threading.Thread(target=self._heartbeat_loop, name="optruns-heartbeat", daemon=True)
                self._heartbeat.start()

    def _unregister(self, run: "Run") -> None:
        with self._lock:
            self._runs.pop(run.id, None)

    def _heartbeat_loop(self) -> None:
        # One thread for all runs: an idle running run says it is alive, so it does not become stalled.
        while not self._closed.wait(max(0.05, self.heartbeat_interval / 3)):
            with self._lock:
                runs = [r for r in self._runs.values() if r._heartbeats]
            now = time.monotonic()
            for run in runs:
                if now - run._last_contact < self.heartbeat_interval or self._closed.is_set():
                    continue
                try:
                    run._request("POST", f"/api/optimization/runs/{run.id}/progress", {},
                                 retry_timeout=self.heartbeat_interval)
                except (NotFoundError, ConflictError):
                    run._heartbeats = False
                except Exception as exc:  # noqa: BLE001 - a missed heartbeat is retried at the next beat
                    logger.warning("optruns: heartbeat of run %s failed: %s", run.id, exc)


class Run:
    """One optimization run. Thread-safe: evaluation threads may log into it concurrently.

    As a context manager it ends the run on exit: completed when the block finishes, failed (with the
    traceback) when it raises, cancelled on KeyboardInterrupt.
    """

    def __init__(self, tracker: Tracker, run_id: str, data: Optional[Dict[str, Any]], *, percent: bool = False) -> None:
        self.tracker = tracker
        self.id = run_id
        self.percent = percent
        self.data: Dict[str, Any] = dict(data or {})
        self._lock = threading.Lock()
        self._next_index: Dict[int, int] = {}
        self._ended: Optional[str] = None
        self._heartbeats = False
        self._last_contact = time.monotonic()
        self._sender = _SampleSender(self)
        tracker._register(self)

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.data.get('runName')!r}, status={self.status!r})"

    @property
    def status(self) -> Optional[str]:
        """The status as last answered by the gateway (or as this client ended it)."""
        return self._ended or self.data.get("status")

    @property
    def ended(self) -> bool:
        return self._ended is not None

    # Writes -------------------------------------------------------------------------------------

    def start(self) -> Dict[str, Any]:
        """Marks the run running (a repeat is a no-op) and starts its heartbeats."""
        data = self._patch({"status": "running"})
        self._heartbeats = True
        return data

    def log_iteration(
        self,
        iteration: int,
        score: Optional[float] = None,
        *,
        kind: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        candidate_program: Any = None,
        samples_evaluated: Optional[int] = None,
        samples_successful: Optional[int] = None,
        samples_failed: Optional[int] = None,
        prompt_tokens: Optional[int] = None,
        completion_tokens: Optional[int] = None,
        cost_usd: Optional[float] = None,
        started_at: Optional[v.Timestamp] = None,
        completed_at: Optional[v.Timestamp] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        trace_id: Any = None,
        span_id: Any = None,
        percent: Optional[bool] = None,
    ) -> str:
        """Records one iteration (trial) and answers ``inserted``, ``updated`` or ``duplicate``.

        Send it when it starts (no score) and again when it ends (with the score); ``kind`` is
        ``baseline`` (the unoptimized program, fully evaluated), ``minibatch`` or ``full``. Without
        ``kind``, a new iteration is a ``minibatch`` trial and a completion keeps the kind it was
        recorded with. Re-sending a scored iteration with another score raises :class:`ConflictError`.
        """
        if kind is not None and kind not in ITERATION_KINDS:
            raise ValueError(f"kind must be one of {', '.join(ITERATION_KINDS)}, not {kind!r}")
        self._require_open()
        body = v.compact({
            "iteration": v.non_negative(iteration, "iteration", integer=True),
            "kind": kind,
            "score": v.score(score, "score", self.percent if percent is None else percent),
            "params": v.json_object(params, "params"),
            "candidateProgram": v.jsonable(candidate_program),
            "samplesEvaluated": v.non_negative(samples_evaluated, "samples_evaluated", integer=True),
            "samplesSuccessful": v.non_negative(samples_successful, "samples_successful", integer=True),
            "samplesFailed": v.non_negative(samples_failed, "samples_failed", integer=True),
            "promptTokens": v.non_negative(prompt_tokens, "prompt_tokens", integer=True),
            "completionTokens": v.non_negative(completion_tokens, "completion_tokens", integer=True),
            "costUsd": v.non_negative(cost_usd, "cost_usd"),
            "startedAt": v.timestamp(started_at, "started_at"),
            "completedAt": v.timestamp(completed_at, "completed_at"),
            "metadata": v.json_object(metadata, "metadata"),
            "traceId": v.trace_id(trace_id),
            "spanId": v.span_id(span_id),
        })
        answer = self._request("POST", f"/api/optimization/runs/{self.id}/iterations", body)
        return str((answer or {}).get("outcome", ""))

    def log_sample(
        self,
        iteration: int,
        *,
        sample_index: Optional[int] = None,
        example_id: Optional[str] = None,
        inputs: Any = None,
        expected: Any = None,
        prediction: Any = None,
        score: Optional[float] = None,
        success: Optional[bool] = None,
        error: Optional[str] = None,
        latency_ms: Optional[float] = None,
        prompt_tokens: Optional[int] = None,
        completion_tokens: Optional[int] = None,
        cost_usd: Optional[float] = None,
        trace_id: Any = None,
        span_id: Any = None,
        percent: bool = False,
    ) -> int:
        """Queues one evaluated example and returns its sample index.

        The index is the sample's key within its iteration: pass your own (e.g. the example's position
        in the evaluated set) when several processes log the same iteration; otherwise the run numbers
        an iteration's samples 0, 1, 2 … in call order. The index travels with the queued row, so a
        retried batch is counted as duplicates, never twice. Blocks while the run's queue is full.
        """
        row = self._sample_row(dict(
            iteration=iteration, sample_index=sample_index, example_id=example_id, inputs=inputs,
            expected=expected, prediction=prediction, score=score, success=success, error=error,
            latency_ms=latency_ms, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            cost_usd=cost_usd, trace_id=trace_id, span_id=span_id, percent=percent,
        ))
        self._sender.put([row])
        return row["sampleIndex"]

    def log_samples(self, samples: Iterable[Mapping[str, Any]]) -> List[int]:
        """Queues many samples (each a mapping of :meth:`log_sample`'s arguments, ``iteration``
        included) and returns their indices. All are checked before any is queued."""
        rows = []
        for i, sample in enumerate(samples):
            unknown = set(sample) - _SAMPLE_FIELDS
            if unknown:
                raise TypeError(f"samples[{i}]: unknown field(s) {', '.join(sorted(unknown))}")
            if "iteration" not in sample:
                raise TypeError(f"samples[{i}]: iteration is required")
            rows.append(self._sample_row(dict(sample)))
        self._sender.put(rows)
        return [row["sampleIndex"] for row in rows]

    def progress(
        self,
        phase: Optional[str] = None,
        current_iteration: Optional[int] = None,
        total_iterations: Optional[int] = None,
        message: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Reports live progress (also a heartbeat), e.g. ``progress("searching", 3, message="trial 3/18")``."""
        self._require_open()
        body = v.compact({
            "phase": v.text(phase, "phase", 100),
            "currentIteration": v.non_negative(current_iteration, "current_iteration", integer=True),
            "totalIterations": v.non_negative(total_iterations, "total_iterations", integer=True),
            "message": v.text(message, "message", 1000, truncate=True),
        })
        return self._store(self._request("POST", f"/api/optimization/runs/{self.id}/progress", body))

    def update(self, **fields: Any) -> Dict[str, Any]:
        """Changes descriptive fields: ``run_name``, ``description``, ``tags``, ``metadata``,
        ``program_name``, ``dataset_name``, ``metric_name``, ``task_model``, ``prompt_model``,
        ``total_iterations``, ``baseline_score``."""
        unknown = set(fields) - set(_RUN_FIELDS)
        if unknown:
            raise TypeError(f"unknown run field(s): {', '.join(sorted(unknown))}")
        body: Dict[str, Any] = {}
        for name, value in fields.items():
            if value is None:
                continue
            if name == "metadata":
                value = v.json_object(value, name)
            elif name == "tags":
                value = v.tags(value)
            elif name == "total_iterations":
                value = v.non_negative(value, name, integer=True)
            elif name == "baseline_score":
                value = v.score(value, name, self.percent)
            else:
                value = v.text(value, name, 4000 if name == "description" else v.MAX_TEXT)
            body[_RUN_FIELDS[name]] = value
        return self._patch(body)

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every sample queued so far is acknowledged (committed by the service).

        Raises the first error a background batch met since the last flush: an :class:`ApiError` when
        the gateway refused a batch (its samples are dropped), :class:`UnavailableError` when it stayed
        unreachable past the retry deadline, ``TimeoutError`` when ``timeout`` passes first.
        """
        if not self._sender.flush(timeout):
            raise TimeoutError(f"run {self.id}: samples still queued after {timeout} s")
        self._sender.raise_errors()

    def complete(self, final_score: Optional[float] = None, optimized_program: Any = None, *,
                 percent: Optional[bool] = None) -> Dict[str, Any]:
        """Sends every queued sample, then marks the run completed with its final score."""
        body = v.compact({
            "status": "completed",
            "finalScore": v.score(final_score, "final_score", self.percent if percent is None else percent),
            "optimizedProgram": v.jsonable(optimized_program),
        })
        self.flush()
        return self._end("completed", body)

    def fail(self, error: Any = None, *, error_message: Optional[str] = None,
             error_details: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Marks the run failed. ``error`` may be an exception (its type, message and traceback become
        ``errorMessage`` and ``errorDetails``) or a message. Queued samples are sent first, best effort."""
        details: Dict[str, Any] = dict(error_details or {})
        if isinstance(error, BaseException):
            message = error_message or f"{type(error).__name__}: {error}"
            details.setdefault("type", f"{type(error).__module__}.{type(error).__qualname__}")
            details.setdefault("message", str(error))
            details.setdefault("traceback", "".join(traceback.format_exception(type(error), error, error.__traceback__)))
        else:
            message = error_message or (str(error) if error is not None else "failed")
        self._flush_quietly()
        body = v.compact({
            "status": "failed",
            "errorMessage": v.text(message, "error_message", v.MAX_ERROR, truncate=True),
            "errorDetails": v.jsonable(details) if details else None,
        })
        return self._end("failed", body)

    def cancel(self) -> Dict[str, Any]:
        """Marks the run cancelled (queued samples are sent first, best effort)."""
        self._flush_quietly()
        return self._end("cancelled", {"status": "cancelled"})

    # Reads --------------------------------------------------------------------------------------

    def refresh(self) -> Dict[str, Any]:
        """The run with its live state (counts, best score, status …) from the gateway."""
        return self._store(self._request("GET", f"/api/optimization/runs/{self.id}"))

    def iterations(self) -> List[Dict[str, Any]]:
        return self.tracker.iterations(self.id)

    def log_candidates(self, candidates: Iterable[Mapping[str, Any]]) -> Dict[str, Any]:
        """Records proposed candidates: ``{"predictor": "0", "kind": "instruction", "index": 2, "text": "…"}`` or
        ``{"predictor": "0", "kind": "demos", "index": 3, "demos": [{…}, …]}``. Idempotent: the same candidate again
        is a duplicate; different content for a recorded one raises :class:`ConflictError`. Accepted even after
        the run ended (MIPROv2 knows the texts at compile end). Answers ``{accepted, inserted, duplicates}``."""
        rows = [v.compact({
            "predictor": str(c["predictor"]),
            "kind": c["kind"],
            "index": v.non_negative(c["index"], "index", integer=True),
            "text": c.get("text"),
            "demos": v.jsonable(c.get("demos")),
        }) for c in candidates]
        return self._request("POST", f"/api/optimization/runs/{self.id}/candidates", {"candidates": rows})

    def trajectory(self) -> List[Dict[str, Any]]:
        """One entry per iteration in order: score, best so far (baseline and full evaluations only), best
        minibatch so far, cumulative samples, cost and tokens — the data behind a chart."""
        return self._request("GET", f"/api/optimization/runs/{self.id}/trajectory")["items"]

    def iter_examples(self, *, sort: str = "hardest", kind: Optional[str] = None, min_evaluations: Optional[int] = None,
                      page_size: int = 500) -> Iterator[Dict[str, Any]]:
        """Example difficulty over the run (``sort``: hardest or flakiest): evaluations, mean score, failures,
        last error and the kinds each example was evaluated in, fetched a page at a time."""
        query: Dict[str, Any] = v.compact({"sort": sort, "kind": kind, "minEvaluations": min_evaluations, "limit": page_size})
        while True:
            page = self.tracker._transport.request("GET", f"/api/optimization/runs/{self.id}/examples", query=query).body
            yield from page["items"]
            if not page.get("nextCursor"):
                return
            query["cursor"] = page["nextCursor"]

    def export(self, path: str, *, format: str = "jsonl", what: str = "samples") -> int:
        """Streams the run's ``samples``, ``iterations`` or ``candidates`` as ``jsonl`` or ``csv`` into the file
        at ``path`` (constant memory on both sides); returns the bytes written. A candidate's row holds its
        predictor, kind, index, text or demos (JSON) and its statistics, flattened (``minibatchMean``, ``fullN``…)."""
        with open(path, "wb") as destination:
            return self.tracker._transport.download(f"/api/optimization/runs/{self.id}/export",
                                                    {"format": format, "what": what}, destination)

    def candidates(self) -> Dict[str, Any]:
        """Per predictor and kind, each candidate with its text and statistics from the run's trials (times
        chosen, minibatch mean with a 95 % t interval, full-evaluation mean, best score) and the choice's
        importance (η² of the minibatch scores)."""
        return self._request("GET", f"/api/optimization/runs/{self.id}/candidates")

    # Context manager ----------------------------------------------------------------------------

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool:
        if self.ended:
            return False
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
            try:
                self.complete()
            except Exception as error:
                # Completing failed (e.g. a rejected sample batch): say so on the run, then raise.
                try:
                    self.fail(error)
                except Exception as inner:  # noqa: BLE001
                    logger.warning("optruns: could not mark run %s failed: %s", self.id, inner)
                raise
            return False
        try:
            if isinstance(exc, KeyboardInterrupt):
                self.cancel()
            else:
                self.fail(exc)
        except Exception as error:  # noqa: BLE001 - never hide the exception that ended the block
            logger.warning("optruns: could not end run %s: %s", self.id, error)
        return False

    # Internals ----------------------------------------------------------------------------------

    def _sample_row(self, s: Dict[str, Any]) -> Dict[str, Any]:
        self._require_open()
        iteration = v.non_negative(s.get("iteration"), "iteration", integer=True)
        if iteration is None:
            raise TypeError("iteration is required")
        error = v.text(s.get("error"), "error", v.MAX_ERROR, truncate=True)
        success = s.get("success")
        row = v.compact({
            "iteration": iteration,
            "exampleId": v.text(s.get("example_id"), "example_id"),
            "inputs": v.jsonable(s.get("inputs")),
            "expected": v.jsonable(s.get("expected")),
            "prediction": v.jsonable(s.get("prediction")),
            "score": v.score(s.get("score"), "score", bool(s.get("percent"))),
            "success": bool(success) if success is not None else error is None,
            "error": error,
            "latencyMs": v.non_negative(s.get("latency_ms"), "latency_ms"),
            "promptTokens": v.non_negative(s.get("prompt_tokens"), "prompt_tokens", integer=True),
            "completionTokens": v.non_negative(s.get("completion_tokens"), "completion_tokens", integer=True),
            "costUsd": v.non_negative(s.get("cost_usd"), "cost_usd"),
            "traceId": v.trace_id(s.get("trace_id")),
            "spanId": v.span_id(s.get("span_id")),
        })
        index = v.non_negative(s.get("sample_index"), "sample_index", integer=True)
        with self._lock:
            following = self._next_index.get(iteration, 0)
            if index is None:
                index = following
            self._next_index[iteration] = max(following, index + 1)
        row["sampleIndex"] = index
        return row

    def _require_open(self) -> None:
        if self._ended is not None:
            raise RunEndedError(f"run {self.id} is {self._ended}: it takes no more writes")

    def _request(self, method: str, path: str, body: Any = None, *, retry_timeout: Optional[float] = None) -> Any:
        answer = self.tracker._transport.request(method, path, body, retry_timeout=retry_timeout).body
        self._last_contact = time.monotonic()
        return answer

    def _store(self, data: Any) -> Dict[str, Any]:
        if isinstance(data, dict) and data.get("id") == self.id:
            self.data = data
        return self.data

    def _patch(self, body: Dict[str, Any]) -> Dict[str, Any]:
        return self._store(self._request("PATCH", f"/api/optimization/runs/{self.id}", body))

    def _end(self, status: str, body: Dict[str, Any]) -> Dict[str, Any]:
        with self._lock:
            if self._ended is not None:
                raise RunEndedError(f"run {self.id} is already {self._ended}")
        data = self._patch(body)
        with self._lock:
            self._ended = status
        self._heartbeats = False
        self._sender.close(timeout=0)
        self.tracker._unregister(self)
        return data

    def _flush_quietly(self) -> None:
        try:
            self.flush(timeout=self.tracker.exit_flush_timeout)
        except Exception as exc:  # noqa: BLE001 - ending the run matters more than the samples' error
            logger.warning("optruns: run %s: samples not all sent: %s", self.id, exc)


class _SampleSender:
    """A run's sample queue and the thread that empties it in batches.

    A batch is sent when it holds ``batch_size`` samples or when its first sample has waited
    ``flush_interval`` seconds, whichever comes first; ``flush()`` sends at once. The thread is
    started by the first sample and ends with the run.
    """

    def __init__(self, run: Run) -> None:
        self._run_ref = weakref.ref(run)
        self._run_id = run.id
        tracker = run.tracker
        self._transport = tracker._transport
        self._batch_size = tracker.batch_size
        self._interval = tracker.flush_interval
        self._queue: "queue.Queue[Dict[str, Any]]" = queue.Queue(maxsize=tracker.max_queued)
        self._cond = threading.Condition()
        self._queued = 0  # samples put so far
        self._settled = 0  # samples acknowledged, or dropped with an error
        self._flushers = 0
        self._errors: List[OptRunsError] = []
        self._closing = False
        self._thread: Optional[threading.Thread] = None
        self.sent_batches = 0

    def put(self, rows: List[Dict[str, Any]]) -> None:
        if not rows:
            return
        with self._cond:
            if self._closing:
                raise RunEndedError(f"run {self._run_id} takes no more samples")
            self._queued += len(rows)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"optruns-samples-{self._run_id[:8]}", daemon=True)
                self._thread.start()
        for row in rows:
            self._queue.put(row)  # blocks while the queue is full: back-pressure on the evaluating threads

    def flush(self, timeout: Optional[float]) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._queued
            self._flushers += 1
            self._cond.notify_all()
            try:
                while self._settled < target:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(0.05 if remaining is None else min(0.05, remaining))
                return True
            finally:
                self._flushers -= 1

    def raise_errors(self) -> None:
        with self._cond:
            errors, self._errors = self._errors, []
        if errors:
            first = errors[0]
            if len(errors) > 1:
                logger.warning("optruns: run %s: %d more batch errors after: %s", self._run_id, len(errors) - 1, first)
            raise first

    def close(self, timeout: Optional[float]) -> None:
        if timeout is None or timeout > 0:
            self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def _take_batch(self) -> List[Dict[str, Any]]:
        try:
            first = self._queue.get(timeout=0.1)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._interval
        while len(batch) < self._batch_size:
            with self._cond:
                eager = self._flushers > 0 or self._closing
            remaining = deadline - time.monotonic()
            try:
                if eager or remaining <= 0:
                    batch.append(self._queue.get_nowait())
                else:
                    batch.append(self._queue.get(timeout=min(remaining, 0.05)))
            except queue.Empty:
                if eager or remaining <= 0:
                    break
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                with self._cond:
                    if self._closing and self._queue.empty():
                        return
                continue
            error: Optional[OptRunsError] = None
            try:
                self._transport.request("POST", f"/api/optimization/runs/{self._run_id}/samples", {"samples": batch})
                self.sent_batches += 1
                run = self._run_ref()
                if run is not None:
                    run._last_contact = time.monotonic()
            except (ApiError, UnavailableError) as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything to keep settling
                error = OptRunsError(f"run {self._run_id}: sending {len(batch)} samples failed: {exc!r}")
            if error is not None:
                logger.error("optruns: run %s: %d samples not stored: %s", self._run_id, len(batch), error)
            with self._cond:
                if error is not None:
                    self._errors.append(error)
                self._settled += len(batch)
                self._cond.notify_all()


class Admin:
    """The admin endpoints (projects and API keys), with the admin key."""

    def __init__(self, url: str, admin_key: str, *, timeout: float = 30.0, retry_timeout: float = 60.0) -> None:
        self._transport = Transport(url, admin_key, timeout=timeout, retry_timeout=retry_timeout)

    def create_project(self, name: str, project_id: Optional[str] = None) -> Dict[str, Any]:
        """→ ``{id, name, createdAt}``; with ``project_id`` the create is idempotent."""
        return self._transport.request("POST", "/api/projects", v.compact({"id": project_id, "name": name})).body

    def create_api_key(self, project_id: str, name: Optional[str] = None) -> Dict[str, Any]:
        """→ ``{id, key, prefix}``: the key is in this answer only."""
        return self._transport.request("POST", f"/api/projects/{project_id}/api-keys", v.compact({"name": name})).body

    def revoke_api_key(self, project_id: str, key_id: str) -> None:
        self._transport.request("DELETE", f"/api/projects/{project_id}/api-keys/{key_id}")

    def close(self) -> None:
        self._transport.close()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_live_trackers: "weakref.WeakSet[Tracker]" = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    # Samples still queued at exit are sent (bounded by each tracker's exit_flush_timeout).
    for tracker in list(_live_trackers):
        try:
            tracker.close(timeout=tracker.exit_flush_timeout)
        except Exception as exc:  # noqa: BLE001
            logger.warning("optruns: flushing at exit failed: %s", exc)
