"""DSPy integration: a callback (DSPy's public ``dspy.utils.callback.BaseCallback`` API) and a metric
wrapper that record an optimizer's compile as a run, each evaluation as an iteration and each
evaluated example as a sample. Nothing in DSPy is patched, and DSPy itself is an optional import.

    import dspy
    from optruns import Tracker
    from optruns.dspy import OptRunsCallback, tracked_metric

    tracker = Tracker("http://localhost:8080", api_key)
    callback = OptRunsCallback(tracker, dataset_name="hotpotqa-dev")
    dspy.configure(callbacks=[callback])           # evaluations, module timings
    optimizer = dspy.MIPROv2(metric=tracked_metric(my_metric), auto="light")
    best = callback.compile(optimizer, program, trainset=trainset, requires_permission_to_run=False)

Which DSPy hooks exist decides how a compile is seen:

* DSPy 3.3 documents ``on_module_*``, ``on_lm_*``, ``on_adapter_*``, ``on_tool_*`` and
  ``on_evaluate_start/end``; it has no compile hook. ``callback.compile(optimizer, ...)`` brackets the
  compile itself, calling this callback's ``on_compile_start`` / ``on_compile_end`` with the same
  arguments DSPy's own compile events use.
* Newer DSPy (``on_compile_start`` / ``on_compile_end`` on ``BaseCallback``) fires them for every
  ``Teleprompter.compile``; then ``optimizer.compile(...)`` is tracked as it is, and nested compiles
  (MIPROv2's bootstrap phase) become progress of the outer run. Using ``callback.compile`` there
  too is harmless: DSPy's pair for the same optimizer is recognised as the same compile.

Evaluations are ``on_evaluate_start`` / ``on_evaluate_end`` with MIPROv2's
``callback_metadata={"metric_key": "eval_minibatch" | "eval_full"}``: one iteration each, numbered in
order from 1 — MIPROv2's own trial numbers (trial 1 is the default program's full evaluation, the
``baseline``). Scores are DSPy percentages and are stored as fractions.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import inspect
import json
import logging
import math
import queue
import re
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from . import _values as v
from .client import Run, Tracker

logger = logging.getLogger("optruns.dspy")


def _import_dspy() -> Any:
    try:
        import dspy  # noqa: PLC0415 - optional dependency

        return dspy
    except Exception:  # noqa: BLE001 - DSPy missing or broken: the adapter still imports
        return None


# The DSPy module whose public API this adapter uses (``dspy.context``, ``dspy.settings``), or None.
_dspy: Any = _import_dspy()

try:
    from dspy.utils.callback import BaseCallback as _BaseCallback  # type: ignore[import-not-found]
except Exception:  # noqa: BLE001
    _BaseCallback = object  # type: ignore[assignment,misc]

# The key under which an evaluation's call id travels to DSPy's worker threads: dspy.context()
# overrides are copied into every thread of DSPy's ParallelExecutor, so the metric finds its
# evaluation even when several optimizations evaluate the same examples at once.
CONTEXT_KEY = "optruns_evaluation"

OPTIMIZER_TYPES = {
    "MIPROv2": "miprov2",
    "BootstrapFewShot": "bootstrap_fewshot",
    "BootstrapFewShotWithRandomSearch": "bootstrap_fewshot_random_search",
    "COPRO": "copro",
    "GEPA": "gepa",
    "SIMBA": "simba",
}
_AUTO_RUN_SETTINGS = {"light": (6, 100), "medium": (12, 300), "heavy": (18, 1000)}  # MIPROv2's (n, val_size)
_PREDICTOR_KEY = re.compile(r"^(\d+)_predictor_(instruction|demos)$")
_COMPILE_DATA_ARGS = frozenset({"student", "program", "trainset", "valset", "teacher", "devset", "testset"})

# Live evaluations by DSPy call id, so a metric call in any thread can find its evaluation.
_evaluations: Dict[str, "_Evaluation"] = {}
_programs: Dict[int, List["_Evaluation"]] = {}
_registry_lock = threading.Lock()
# The compile being tracked in this thread / task (set by on_compile_start, reset by on_compile_end).
_current_compile: contextvars.ContextVar[Optional["_Compile"]] = contextvars.ContextVar("optruns_compile", default=None)


class OptRunsCallback(_BaseCallback):  # type: ignore[misc,valid-type]
    """Records DSPy optimizations in OptimizationRuns.

    :param tracker: where to send the runs
    :param run_name: the run's name (default ``<Program>-<optimizer>-<time>``)
    :param percent: DSPy evaluation scores are percentages (``True`` for DSPy's ``Evaluate``)
    :param complete_runs: end the run when the compile ends (completed, or failed with the exception)
    :param flush_timeout: seconds the end of a compile waits for its queued records
    :param run_fields: more fields of :meth:`Tracker.start_run` (``tags``, ``dataset_name`` …)
    """

    def __init__(
        self,
        tracker: Tracker,
        *,
        run_name: Optional[str] = None,
        percent: bool = True,
        complete_runs: bool = True,
        flush_timeout: float = 300.0,
        **run_fields: Any,
    ) -> None:
        self.tracker = tracker
        self.run_name = run_name
        self.percent = percent
        self.complete_runs = complete_runs
        self.flush_timeout = flush_timeout
        self.run_fields = run_fields
        self._lock = threading.Lock()
        self._compiles: Dict[str, Tuple[str, "_Compile"]] = {}  # call id -> (role, compile)
        self._active: List[_Compile] = []
        self.runs: List[Run] = []  # every run this callback created, in order
        self.compiles: List[_Compile] = []  # every compile it tracked (what it recorded, for inspection)

    # The bracket DSPy 3.3 lacks ------------------------------------------------------------------

    def compile(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Runs ``optimizer.compile(*args, **kwargs)`` as one tracked run and returns its result."""
        call_id = uuid.uuid4().hex
        self.on_compile_start(call_id=call_id, instance=optimizer, inputs=_bind(optimizer.compile, args, kwargs))
        result: Any = None
        error: Optional[BaseException] = None
        try:
            result = optimizer.compile(*args, **kwargs)
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.on_compile_end(call_id=call_id, outputs=result, exception=error)

    # Compile events ------------------------------------------------------------------------------

    def on_compile_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        try:
            self._compile_start(call_id, instance, inputs or {})
        except Exception:  # noqa: BLE001 - tracking must never break the optimization
            logger.exception("optruns: on_compile_start failed")

    def on_compile_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        try:
            self._compile_end(call_id, outputs, exception)
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_compile_end failed")

    def _compile_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        with self._lock:
            if call_id in self._compiles:
                return  # the same event delivered twice (callback registered globally and locally)
        current = _current_compile.get()
        if current is not None and not current.ended:
            role = "alias" if current.optimizer is instance else "nested"
            with self._lock:
                self._compiles[call_id] = (role, current)
            if role == "nested":
                current.nested += 1
                current.progress(current.phase or "bootstrapping",
                                 f"{type(instance).__name__}.compile #{current.nested}")
            return
        compile_ = _Compile(self, call_id, instance, inputs)
        # Set even when the run cannot be created, so nested compiles and evaluations stay part of it.
        compile_.token = _current_compile.set(compile_)
        with self._lock:
            self._compiles[call_id] = ("run", compile_)
            self._active.append(compile_)
        try:
            compile_.start()
        except Exception as exc:  # noqa: BLE001 - the optimization goes on, untracked
            logger.warning("optruns: could not create a run for %s.compile; it is not tracked: %s",
                           type(instance).__name__, exc)

    def _compile_end(self, call_id: str, outputs: Any, exception: Optional[BaseException]) -> None:
        with self._lock:
            role, compile_ = self._compiles.pop(call_id, ("", None))
        if compile_ is None or role != "run":
            return
        try:
            if compile_.token is not None:
                _current_compile.reset(compile_.token)
        except ValueError:
            _current_compile.set(None)  # ended in another context than it started: forget it here
        try:
            compile_.finish(outputs, exception)
        finally:
            with self._lock:
                if compile_ in self._active:
                    self._active.remove(compile_)

    # Evaluation events ---------------------------------------------------------------------------

    def on_evaluate_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        try:
            if call_id in _evaluations:
                return
            compile_ = self._compile_for_evaluation()
            if compile_ is None:
                return  # an evaluation outside any tracked compile
            compile_.evaluation_started(call_id, instance, inputs or {})
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_evaluate_start failed")

    def on_evaluate_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        try:
            with _registry_lock:
                evaluation = _evaluations.get(call_id)
            if evaluation is None or evaluation.compile.callback is not self:
                return
            evaluation.compile.evaluation_ended(evaluation, outputs, exception)
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_evaluate_end failed")

    def _compile_for_evaluation(self) -> Optional["_Compile"]:
        current = _current_compile.get()
        if current is not None and current.callback is self and not current.ended:
            return current
        with self._lock:
            active = [c for c in self._active if not c.ended]
        # Evaluated off the compile's thread: unambiguous only when one compile is running.
        return active[0] if len(active) == 1 else None

    # Module events: the evaluated program's latency, and MIPROv2's proposal phase -----------------

    def on_module_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        try:
            with _registry_lock:
                evaluations = _programs.get(id(instance))
                if evaluations:
                    for evaluation in evaluations:
                        if evaluation.program is instance:
                            evaluation.module_started(call_id)
                            break
            module = type(instance).__module__ or ""
            if module.startswith("dspy.propose"):
                current = _current_compile.get()
                if current is not None and current.callback is self and current.phase == "bootstrapping":
                    current.progress("proposing", "proposing instruction candidates")
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_module_start failed")

    def on_module_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        try:
            _module_ended(call_id, outputs)
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_module_end failed")

    # The rest of DSPy's hooks: nothing to record (defined so the class works without DSPy too).

    def on_lm_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        pass

    def on_lm_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        pass

    def on_adapter_format_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        pass

    def on_adapter_format_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        pass

    def on_adapter_parse_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        pass

    def on_adapter_parse_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        pass

    def on_tool_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        pass

    def on_tool_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        pass


class _Compile:
    """One tracked compile: its run, its evaluations (iterations) and an ordered sender for the
    iteration and progress records, so the optimization never waits on the gateway."""

    def __init__(self, callback: OptRunsCallback, call_id: str, optimizer: Any, inputs: Dict[str, Any]) -> None:
        self.callback = callback
        self.call_id = call_id
        self.optimizer = optimizer
        self.inputs = inputs
        self.optimizer_type = OPTIMIZER_TYPES.get(type(optimizer).__name__, "custom")
        self.run: Optional[Run] = None
        self.token: Optional[contextvars.Token] = None
        self.ended = False
        self.phase: Optional[str] = None
        self.phases: List[str] = []  # the phases reported, in order
        self.nested = 0
        self.total_iterations: Optional[int] = None
        self._lock = threading.Lock()
        self._next_iteration = 1
        self._baseline_seen = False
        # iteration -> {"kind", "score" (fraction sent), "raw" (DSPy's score), "signature"}
        self.iterations: Dict[int, Dict[str, Any]] = {}
        self.best_full: Optional[float] = None
        self.backfilled: Dict[int, Dict[str, Any]] = {}  # iteration -> params sent at the end
        self.backfill_outcomes: Dict[int, str] = {}
        self._records: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._sender: Optional[threading.Thread] = None

    # Start and end -------------------------------------------------------------------------------

    def start(self) -> None:
        cb = self.callback
        student = self.inputs.get("student", self.inputs.get("program"))
        config, task_model, prompt_model = _optimizer_config(self.optimizer, self.inputs)
        self.total_iterations = _estimate_iterations(self.optimizer, self.inputs, config, student)
        fields = dict(cb.run_fields)
        metadata = dict(fields.pop("metadata", None) or {})
        metadata.setdefault("dspy", _compile_metadata(self.optimizer, self.inputs, student))
        name = cb.run_name or f"{type(student).__name__ if student is not None else 'program'}-{self.optimizer_type}-{time.strftime('%Y%m%d-%H%M%S')}"
        fields.setdefault("program_name", type(student).__name__ if student is not None else None)
        fields.setdefault("task_model", task_model)
        fields.setdefault("prompt_model", prompt_model)
        fields.setdefault("total_iterations", self.total_iterations)
        metric = getattr(self.optimizer, "metric", None)
        if metric is not None:
            fields.setdefault("metric_name", getattr(metric, "__name__", type(metric).__name__))
        self.run = cb.tracker.start_run(name, self.optimizer_type, config, metadata=metadata, percent=cb.percent, **fields)
        cb.runs.append(self.run)
        cb.compiles.append(self)
        self._sender = threading.Thread(target=self._send_records, name=f"optruns-dspy-{self.run.id[:8]}", daemon=True)
        self._sender.start()
        first_phase = {"copro": "proposing", "gepa": "searching", "simba": "searching", "custom": "searching"}
        self.progress(first_phase.get(self.optimizer_type, "bootstrapping"), f"{type(self.optimizer).__name__}.compile started")

    def finish(self, outputs: Any, exception: Optional[BaseException]) -> None:
        self.ended = True
        self.inputs = {}  # the datasets and the optimizer: not kept past the compile
        self.optimizer = None
        run = self.run
        if run is None:
            return
        if exception is None and outputs is not None:
            self._backfill(getattr(outputs, "trial_logs", None))
        self._drain()
        if not self.callback.complete_runs:
            run.flush(self.callback.flush_timeout)
            return
        if exception is not None:
            if isinstance(exception, KeyboardInterrupt):
                run.cancel()
            else:
                run.fail(exception)
            return
        final = _number(getattr(outputs, "score", None))
        final_score = v.score(final, "final_score", self.callback.percent) if _valid_score(final, self.callback.percent) else self.best_full
        try:
            run.complete(final_score=final_score, optimized_program=_program_state(outputs), percent=False)
        except Exception as exc:  # e.g. a sample batch the gateway refused: say so on the run
            run.fail(exc, error_message=f"the optimization completed but its records did not: {exc}")
            raise

    # Progress and records ------------------------------------------------------------------------

    def progress(self, phase: Optional[str], message: Optional[str] = None, current: Optional[int] = None) -> None:
        if phase and phase != self.phase:
            self.phases.append(phase)
        self.phase = phase or self.phase
        run, total = self.run, self.total_iterations
        if run is not None:
            self._submit(lambda: run.progress(phase=phase, current_iteration=current, total_iterations=total, message=message))

    def _submit(self, record: Callable[[], None]) -> None:
        self._records.put(record)

    def _send_records(self) -> None:
        while True:
            record = self._records.get()
            try:
                if record is None:
                    return
                record()
            except Exception as exc:  # noqa: BLE001 - a lost record must not stop the ones after it
                logger.warning("optruns: run %s: %s", self.run.id if self.run else "?", exc)
            finally:
                self._records.task_done()

    def _drain(self) -> None:
        done = threading.Event()
        self._submit(done.set)
        if not done.wait(self.callback.flush_timeout):
            logger.warning("optruns: run %s: iteration records still unsent after %s s", self.run.id if self.run else "?",
                           self.callback.flush_timeout)
        self._submit(None)

    # Evaluations -------------------------------------------------------------------------------

    def evaluation_started(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        if self.run is None:
            return
        metadata = inputs.get("callback_metadata") or {}
        metric_key = metadata.get("metric_key") if isinstance(metadata, dict) else None
        devset = inputs.get("devset")
        if devset is None:
            devset = getattr(instance, "devset", None) or []
        program = inputs.get("program")
        metric = inputs.get("metric") or getattr(instance, "metric", None)
        with self._lock:
            iteration = self._next_iteration
            self._next_iteration += 1
            if metric_key == "eval_minibatch":
                kind = "minibatch"
            elif not self._baseline_seen:
                kind = "baseline"
                self._baseline_seen = True
            else:
                kind = "full"
        evaluation = _Evaluation(self, call_id, iteration, kind, list(devset), program,
                                 tracked=isinstance(metric, TrackedMetric),
                                 failure_score=getattr(instance, "failure_score", 0.0))
        with self._lock:
            self.iterations[iteration] = {"kind": kind, "score": None, "raw": None, "signature": evaluation.signature}
        evaluation.enter()
        run = self.run
        assert run is not None
        started_at = v.utc_now()
        candidate = _describe_program(program)
        meta = v.compact({"metricKey": metric_key, "devsetSize": len(evaluation.devset)})
        self._submit(lambda: run.log_iteration(iteration, kind=kind, candidate_program=candidate, started_at=started_at,
                                               metadata=meta))
        total = f"/{self.total_iterations}" if self.total_iterations else ""
        self.progress("searching" if self.phase != "searching" else None,
                      f"trial {iteration}{total}: {kind} evaluation of {len(evaluation.devset)} examples", iteration)

    def evaluation_ended(self, evaluation: "_Evaluation", outputs: Any, exception: Optional[BaseException]) -> None:
        evaluation.exit()
        run = self.run
        assert run is not None
        results = getattr(outputs, "results", None)
        if isinstance(results, list):
            evaluation.record_results(results)
        raw = _number(getattr(outputs, "score", outputs))
        score = v.score(raw, "score", self.callback.percent) if exception is None and _valid_score(raw, self.callback.percent) else None
        totals = evaluation.totals()
        iteration, kind = evaluation.iteration, evaluation.kind
        with self._lock:
            self.iterations[iteration].update(score=score, raw=raw)
            if score is not None and kind in ("baseline", "full") and (self.best_full is None or score > self.best_full):
                self.best_full = score
        metadata = v.compact({"error": f"{type(exception).__name__}: {exception}" if exception is not None else None})
        completed_at = v.utc_now()
        self._submit(lambda: run.log_iteration(
            iteration, score, kind=kind, completed_at=completed_at, percent=False, metadata=metadata or None, **totals))
        shown = f"{score:.4f}" if score is not None else "no score"
        self.progress(None, f"trial {iteration}: {kind} {shown}", iteration)

    # The trial log: chosen instruction / demo-set indices per predictor ----------------------------

    def _backfill(self, trial_logs: Any) -> None:
        """MIPROv2 attaches ``trial_logs`` to the program it returns: per trial, the chosen instruction
        and demo-set index of every predictor (``"0_predictor_instruction"``…). Re-send each iteration
        with those indices as its ``params``; full evaluations take the indices of the minibatch trial
        whose program they evaluated, the baseline is candidate 0 everywhere (MIPROv2's default)."""
        if not isinstance(trial_logs, dict) or self.run is None:
            return
        params_by_trial: Dict[int, Dict[str, Dict[str, int]]] = {}
        keys_seen: Dict[str, set] = {}
        for trial, entry in trial_logs.items():
            if not isinstance(entry, dict):
                continue
            predictors: Dict[str, Dict[str, int]] = {}
            for key, value in entry.items():
                match = _PREDICTOR_KEY.match(str(key))
                if match and isinstance(value, (int, float)) and not isinstance(value, bool):
                    predictors.setdefault(match.group(1), {})[match.group(2)] = int(value)
                    keys_seen.setdefault(match.group(1), set()).add(match.group(2))
            if predictors:
                params_by_trial[int(trial)] = predictors
        with self._lock:
            iterations = {k: dict(val) for k, val in self.iterations.items()}
        by_signature = {iterations[t]["signature"]: p for t, p in params_by_trial.items() if t in iterations}
        for trial in sorted(int(t) for t in trial_logs):
            known = iterations.get(trial)
            entry = trial_logs.get(trial) or trial_logs.get(str(trial)) or {}
            if known is None or known["score"] is None or not _same_trial(entry, known["raw"]):
                continue  # not an evaluation this callback numbered as that trial: leave it alone
            predictors = params_by_trial.get(trial)
            if predictors is None and known["kind"] == "baseline":
                predictors = {p: {k: 0 for k in sorted(ks)} for p, ks in keys_seen.items()}
            if predictors is None:
                predictors = by_signature.get(known["signature"])
            if not predictors:
                continue
            params = {"predictors": predictors}
            self.backfilled[trial] = params
            run, kind, score = self.run, known["kind"], known["score"]
            self._submit(functools.partial(self._send_backfill, run, trial, kind, score, params))

    def _send_backfill(self, run: Run, trial: int, kind: str, score: float, params: Dict[str, Any]) -> None:
        outcome = run.log_iteration(trial, score, kind=kind, params=params, percent=False)
        self.backfill_outcomes[trial] = outcome
        if outcome == "duplicate":
            logger.info("optruns: run %s: the service kept iteration %d as first recorded (params not updated)", run.id, trial)


class _Evaluation:
    """One ``Evaluate`` call: its iteration, its examples' indices, and the samples recorded so far."""

    def __init__(self, compile_: _Compile, call_id: str, iteration: int, kind: str, devset: List[Any], program: Any,
                 *, tracked: bool, failure_score: Any) -> None:
        self.compile = compile_
        self.call_id = call_id
        self.iteration = iteration
        self.kind = kind
        self.devset = devset
        self.program = program
        self.tracked = tracked
        self.failure_score = failure_score
        self.signature = _signature(program)
        self._lock = threading.Lock()
        self._indices: Dict[int, List[int]] = {}
        for index, example in enumerate(devset):
            self._indices.setdefault(id(example), []).append(index)
        self._claimed: set = set()
        self._recorded: Dict[int, bool] = {}  # index -> success
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._cost = 0.0
        self._module_starts: Dict[str, float] = {}
        self._context: Any = None

    def enter(self) -> None:
        with _registry_lock:
            _evaluations[self.call_id] = self
            _programs.setdefault(id(self.program), []).append(self)
        if _dspy is not None and hasattr(_dspy, "context"):
            # Entered here and left in on_evaluate_end: both run in the caller's thread, around Evaluate.__call__.
            self._context = _dspy.context(**{CONTEXT_KEY: self.call_id})
            self._context.__enter__()

    def exit(self) -> None:
        if self._context is not None:
            try:
                self._context.__exit__(None, None, None)
            except Exception:  # noqa: BLE001
                logger.debug("optruns: leaving dspy.context failed", exc_info=True)
            self._context = None
        with _registry_lock:
            _evaluations.pop(self.call_id, None)
            siblings = _programs.get(id(self.program), [])
            if self in siblings:
                siblings.remove(self)
            if not siblings:
                _programs.pop(id(self.program), None)
            for call_id in self._module_starts:
                _module_owner.pop(call_id, None)

    def contains(self, example: Any) -> bool:
        return id(example) in self._indices

    def module_started(self, call_id: str) -> None:
        self._module_starts[call_id] = time.perf_counter()
        _module_owner[call_id] = self

    def claim(self, example: Any) -> Tuple[Optional[int], bool]:
        """The example's index in this evaluation and whether it was recorded already (DSPy re-runs
        stragglers, so one example may be scored twice; its index stays the same)."""
        with self._lock:
            candidates = self._indices.get(id(example))
            if not candidates:
                return None, False
            for index in candidates:
                if index not in self._claimed:
                    self._claimed.add(index)
                    return index, False
            return candidates[0], True

    def record(self, index: int, example: Any, prediction: Any, *, result: Any = None,
               error: Optional[BaseException] = None, latency_ms: Optional[float] = None,
               scale: float = 1.0) -> None:
        run = self.compile.run
        if run is None:
            return
        raw = _number(getattr(result, "score", result)) if error is None else None
        score = None
        if raw is not None:
            scaled = raw / scale if scale else raw
            if 0 <= scaled <= 1:
                score = scaled
            else:
                _warn_once("scale", "optruns: metric values outside [0, 1] are recorded without a score; "
                                    "use tracked_metric(metric, scale=...)")
        usage = _usage(prediction)
        trace_id, span_id = _otel_ids()
        success = error is None
        with self._lock:
            if index in self._recorded:
                return
            self._recorded[index] = success
            self._prompt_tokens += usage[0] or 0
            self._completion_tokens += usage[1] or 0
            self._cost += usage[2] or 0.0
        run.log_sample(
            self.iteration,
            sample_index=index,
            example_id=example_id(example),
            inputs=_example_part(example, "inputs"),
            expected=_example_part(example, "labels"),
            prediction=prediction,
            score=score,
            success=success,
            error=f"{type(error).__name__}: {error}" if error is not None else None,
            latency_ms=latency_ms,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
            cost_usd=usage[2],
            trace_id=trace_id,
            span_id=span_id,
        )

    def record_results(self, results: List[Any]) -> None:
        """Samples for the examples the metric wrapper did not see: those whose program raised (DSPy
        scores them with ``failure_score`` and an empty prediction), or all of them when the metric is
        not wrapped."""
        run = self.compile.run
        if run is None:
            return
        for index, row in enumerate(results):
            with self._lock:
                if index in self._recorded:
                    continue
            try:
                example, prediction, result = row
            except (TypeError, ValueError):
                continue
            failed = self.tracked or _is_empty(prediction)
            if failed:
                with self._lock:
                    self._recorded[index] = False
                run.log_sample(
                    self.iteration, sample_index=index, example_id=example_id(example),
                    inputs=_example_part(example, "inputs"), expected=_example_part(example, "labels"),
                    score=_clamped(result), success=False,
                    error="the program raised before the metric ran (DSPy logged the exception)",
                )
            else:
                self.record(index, example, prediction, result=result, latency_ms=_take_latency(prediction))

    def totals(self) -> Dict[str, Any]:
        with self._lock:
            evaluated = len(self._recorded)
            successful = sum(1 for ok in self._recorded.values() if ok)
            return v.compact({
                "samples_evaluated": evaluated or None,
                "samples_successful": successful if evaluated else None,
                "samples_failed": (evaluated - successful) if evaluated else None,
                "prompt_tokens": self._prompt_tokens or None,
                "completion_tokens": self._completion_tokens or None,
                "cost_usd": self._cost or None,
            })


# The program's latency: its module call's start (by DSPy call id) to its end, keyed by the prediction.
_module_owner: Dict[str, _Evaluation] = {}
_latencies: Dict[int, Tuple[Any, float]] = {}
_MAX_LATENCIES = 10_000


def _module_ended(call_id: str, outputs: Any) -> None:
    with _registry_lock:
        evaluation = _module_owner.pop(call_id, None)
        if evaluation is None:
            return
        started = evaluation._module_starts.pop(call_id, None)
        if started is None or outputs is None:
            return
        if len(_latencies) >= _MAX_LATENCIES:
            _latencies.pop(next(iter(_latencies)))
        _latencies[id(outputs)] = (outputs, (time.perf_counter() - started) * 1000.0)


def _take_latency(prediction: Any) -> Optional[float]:
    with _registry_lock:
        entry = _latencies.get(id(prediction))
        if entry is None or entry[0] is not prediction:
            return None
        del _latencies[id(prediction)]
        return entry[1]


class TrackedMetric:
    """A metric that also records each evaluated example as a sample of the evaluation's iteration.

    Called exactly like the metric it wraps; outside a tracked evaluation (e.g. while bootstrapping
    demos, when DSPy passes a ``trace``) it only calls the metric. ``scale`` divides the metric's
    values into [0, 1] (e.g. ``scale=5`` for a 1-5 judge).
    """

    def __init__(self, metric: Callable[..., Any], *, scale: float = 1.0) -> None:
        self.metric = metric
        self.scale = scale
        functools.update_wrapper(self, metric)  # type: ignore[arg-type]

    def __call__(self, example: Any, prediction: Any, *args: Any, **kwargs: Any) -> Any:
        trace = args[0] if args else kwargs.get("trace")
        evaluation = None if trace is not None else _find_evaluation(example)
        if evaluation is None:
            return self.metric(example, prediction, *args, **kwargs)
        index, recorded = evaluation.claim(example)
        if index is None or recorded:
            return self.metric(example, prediction, *args, **kwargs)
        latency = _take_latency(prediction)
        try:
            result = self.metric(example, prediction, *args, **kwargs)
        except Exception as exc:
            _safely(evaluation.record, index, example, prediction, error=exc, latency_ms=latency, scale=self.scale)
            raise
        _safely(evaluation.record, index, example, prediction, result=result, latency_ms=latency, scale=self.scale)
        return result


def tracked_metric(metric: Callable[..., Any], *, scale: float = 1.0) -> TrackedMetric:
    """Wraps a DSPy metric so each evaluated example becomes a sample (see :class:`TrackedMetric`)."""
    return metric if isinstance(metric, TrackedMetric) else TrackedMetric(metric, scale=scale)


def _find_evaluation(example: Any) -> Optional[_Evaluation]:
    call_id = None
    if _dspy is not None:
        try:
            call_id = _dspy.settings.get(CONTEXT_KEY)
        except Exception:  # noqa: BLE001
            call_id = None
    with _registry_lock:
        if call_id is not None:
            evaluation = _evaluations.get(call_id)
            return evaluation if evaluation is not None and evaluation.contains(example) else None
        # Without DSPy's context: the one live evaluation holding this very example object.
        holders = [e for e in _evaluations.values() if e.contains(example)]
    if len(holders) == 1:
        return holders[0]
    if holders:
        current = _current_compile.get()
        mine = [e for e in holders if e.compile is current]
        if len(mine) == 1:
            return mine[0]
        _warn_once("ambiguous", "optruns: an example is in several live evaluations and DSPy's context is not "
                                "available; its sample is recorded from the evaluation's results instead")
    return None


# Describing programs and examples ---------------------------------------------------------------

def _named_predictors(program: Any) -> List[Tuple[str, Any]]:
    try:
        if hasattr(program, "named_predictors"):
            return list(program.named_predictors())
        if hasattr(program, "predictors"):
            return [(str(i), p) for i, p in enumerate(program.predictors())]
    except Exception:  # noqa: BLE001
        pass
    return []


def _instructions(predictor: Any) -> Optional[str]:
    signature = getattr(predictor, "signature", None)
    if signature is None and hasattr(predictor, "predict"):
        signature = getattr(predictor.predict, "signature", None)
    text = getattr(signature, "instructions", None)
    return text if isinstance(text, str) else None


def _describe_program(program: Any) -> Optional[Dict[str, Any]]:
    """Per predictor (by index, as MIPROv2 numbers them): its name, instructions and demo count."""
    predictors = _named_predictors(program)
    if not predictors:
        return None
    return {"predictors": {
        str(i): {"name": name, "instructions": _instructions(p), "demos": len(getattr(p, "demos", None) or [])}
        for i, (name, p) in enumerate(predictors)
    }}


def _signature(program: Any) -> Tuple[Any, ...]:
    parts = []
    for _, predictor in _named_predictors(program):
        demos = getattr(predictor, "demos", None) or []
        digest = hashlib.sha1(json.dumps(v.jsonable(demos), sort_keys=True, default=str).encode()).hexdigest()
        parts.append((_instructions(predictor), len(demos), digest))
    return tuple(parts)


def _program_state(program: Any) -> Any:
    if program is None:
        return None
    dump = getattr(program, "dump_state", None)
    if callable(dump):
        try:
            return v.jsonable(dump())
        except Exception:  # noqa: BLE001
            pass
    return _describe_program(program)


def example_id(example: Any) -> str:
    """A stable id for an example: a hash of its fields (inputs and labels), ``ex-`` + 16 hex digits."""
    try:
        content = example.toDict() if hasattr(example, "toDict") else dict(example)
    except Exception:  # noqa: BLE001
        content = str(example)
    digest = hashlib.sha256(json.dumps(v.jsonable(content), sort_keys=True, default=str).encode()).hexdigest()
    return "ex-" + digest[:16]


def _example_part(example: Any, part: str) -> Any:
    method = getattr(example, part, None)
    if callable(method):
        try:
            return v.jsonable(method())
        except Exception:  # noqa: BLE001 - e.g. an Example without with_inputs(): its fields as a whole
            pass
    return v.jsonable(example) if part == "inputs" else None


def _usage(prediction: Any) -> Tuple[Optional[int], Optional[int], Optional[float]]:
    """Prompt and completion tokens (and cost, when reported) from ``Prediction.get_lm_usage()``,
    which DSPy fills when ``dspy.configure(track_usage=True)``."""
    getter = getattr(prediction, "get_lm_usage", None)
    if not callable(getter):
        return None, None, None
    try:
        usage = getter() or {}
    except Exception:  # noqa: BLE001
        return None, None, None
    prompt = completion = 0
    cost = 0.0
    seen = False
    for per_model in usage.values() if isinstance(usage, dict) else []:
        if not isinstance(per_model, dict):
            continue
        seen = True
        prompt += int(per_model.get("prompt_tokens") or 0)
        completion += int(per_model.get("completion_tokens") or 0)
        cost += float(per_model.get("cost") or 0.0)
    return (prompt, completion, cost or None) if seen else (None, None, None)


_otel_trace: Any = None


def _otel_ids() -> Tuple[Optional[str], Optional[str]]:
    """The current OpenTelemetry trace and span ids, when OpenTelemetry is installed and a span is active."""
    global _otel_trace
    if _otel_trace is None:
        try:
            from opentelemetry import trace  # noqa: PLC0415 - optional

            _otel_trace = trace
        except Exception:  # noqa: BLE001
            _otel_trace = False
    if not _otel_trace:
        return None, None
    try:
        context = _otel_trace.get_current_span().get_span_context()
        if context is not None and context.is_valid:
            return format(context.trace_id, "032x"), format(context.span_id, "016x")
    except Exception:  # noqa: BLE001
        pass
    return None, None


# The optimizer's configuration -----------------------------------------------------------------

def _plain(value: Any, depth: int = 0) -> Tuple[bool, Any]:
    """Whether ``value`` is plain JSON data (no objects to stringify), and the value."""
    if value is None or isinstance(value, (bool, int, str)):
        return True, value
    if isinstance(value, float):
        return math.isfinite(value), value
    if depth < 4 and isinstance(value, (list, tuple)):
        items = [_plain(x, depth + 1) for x in value]
        return all(ok for ok, _ in items), [x for _, x in items]
    if depth < 4 and isinstance(value, dict):
        items = {str(k): _plain(x, depth + 1) for k, x in value.items()}
        return all(ok for ok, _ in items.values()), {k: x for k, (_, x) in items.items()}
    return False, None


def _model_name(lm: Any) -> Optional[str]:
    name = getattr(lm, "model", None) or getattr(lm, "model_name", None)
    return str(name)[:200] if name else None


def _optimizer_config(optimizer: Any, inputs: Dict[str, Any]) -> Tuple[Dict[str, Any], Optional[str], Optional[str]]:
    """``get_params()`` (DSPy's Teleprompter API; the instance's fields otherwise) plus the compile's
    own arguments, as plain JSON; the task and prompt models as names."""
    try:
        params = optimizer.get_params() if hasattr(optimizer, "get_params") else vars(optimizer)
    except Exception:  # noqa: BLE001
        params = {}
    config: Dict[str, Any] = {}
    for key, value in dict(params or {}).items():
        if key.startswith("_") or key in ("metric", "task_model", "prompt_model", "rng"):
            continue
        ok, plain = _plain(value)
        if ok:
            config[key] = plain
    for key, value in inputs.items():
        if key in _COMPILE_DATA_ARGS or (value is None and key in config):
            continue
        ok, plain = _plain(value)
        if ok:
            config[key] = plain
    lm = None
    if _dspy is not None:
        try:
            lm = _dspy.settings.get("lm")
        except Exception:  # noqa: BLE001
            lm = None
    task = _model_name(getattr(optimizer, "task_model", None) or lm)
    prompt = _model_name(getattr(optimizer, "prompt_model", None) or lm)
    return config, task, prompt


def _compile_metadata(optimizer: Any, inputs: Dict[str, Any], student: Any) -> Dict[str, Any]:
    meta: Dict[str, Any] = {"optimizer": f"{type(optimizer).__module__}.{type(optimizer).__qualname__}"}
    version = getattr(_dspy, "__version__", None) if _dspy is not None else None
    if version:
        meta["version"] = str(version)
    for key in ("trainset", "valset"):
        if isinstance(inputs.get(key), (list, tuple)):
            meta[f"{key}Size"] = len(inputs[key])
    predictors = _named_predictors(student)
    if predictors:
        meta["predictors"] = [name for name, _ in predictors]
    return meta


def _estimate_iterations(optimizer: Any, inputs: Dict[str, Any], config: Dict[str, Any], student: Any) -> Optional[int]:
    """MIPROv2's trial count, including full evaluations and the baseline (its ``adjusted_num_trials``)."""
    if type(optimizer).__name__ != "MIPROv2":
        return None
    try:
        num_trials = inputs.get("num_trials")
        minibatch = bool(inputs.get("minibatch", True))
        steps = int(inputs.get("minibatch_full_eval_steps") or 5)
        auto = config.get("auto")
        if auto in _AUTO_RUN_SETTINGS:
            n, val_size = _AUTO_RUN_SETTINGS[auto]
            # As MIPROv2 decides it: from the optimizer's own settings, before compile's overrides apply.
            zeroshot = getattr(optimizer, "max_bootstrapped_demos", 1) == 0 and getattr(optimizer, "max_labeled_demos", 1) == 0
            variables = len(_named_predictors(student)) * (1 if zeroshot else 2)
            num_trials = int(max(2 * variables * math.log2(n), 1.5 * n))
            valset = inputs.get("valset")
            trainset = inputs.get("trainset") or []
            size = len(valset) if valset is not None else min(1000, max(1, int(len(trainset) * 0.8)))
            minibatch = min(size, val_size) > 50
        if not num_trials:
            return None
        num_trials = int(num_trials)
        if not minibatch:
            return num_trials + 1
        return num_trials + num_trials // steps + 1 + (1 if num_trials % steps else 0)
    except Exception:  # noqa: BLE001 - an estimate only
        return None


# Small helpers ---------------------------------------------------------------------------------

def _bind(function: Callable[..., Any], args: Iterable[Any], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The compile's arguments by name, defaults included (what DSPy's callback wrapper passes)."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
        bound.apply_defaults()
        inputs = dict(bound.arguments)
        extra = inputs.pop("kwargs", None)
        if isinstance(extra, dict):
            inputs.update(extra)
        return inputs
    except (TypeError, ValueError):
        return dict(kwargs)


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _valid_score(value: Optional[float], percent: bool) -> bool:
    return value is not None and 0 <= value <= (100 if percent else 1)


def _clamped(value: Any) -> Optional[float]:
    number = _number(value)
    return number if number is not None and 0 <= number <= 1 else None


def _same_trial(entry: Dict[str, Any], raw: Optional[float]) -> bool:
    logged = _number(entry.get("mb_score", entry.get("full_eval_score", entry.get("score"))))
    if logged is None or raw is None:
        return logged is None
    return abs(logged - raw) < 1e-6


def _is_empty(prediction: Any) -> bool:
    if prediction is None:
        return True
    keys = getattr(prediction, "keys", None)
    try:
        return callable(keys) and len(list(keys())) == 0
    except Exception:  # noqa: BLE001
        return False


_warned: set = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message)


def _safely(function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        function(*args, **kwargs)
    except Exception:  # noqa: BLE001 - recording a sample must never change the metric's outcome
        logger.warning("optruns: recording a sample failed", exc_info=True)


__all__ = ["OptRunsCallback", "TrackedMetric", "tracked_metric", "example_id", "CONTEXT_KEY"]
