"""DSPy integration: a callback (DSPy's public ``dspy.utils.callback.BaseCallback`` API) and a metric
wrapper that record an optimizer's compile as a run, each evaluation as an iteration, each evaluated
example as a sample and MIPROv2's candidates with their texts. Nothing in DSPy is patched, and DSPy
itself is an optional import.

    import dspy
    from optruns import Tracker
    from optruns.dspy import OptRunsCallback, tracked_metric

    tracker = Tracker("http://localhost:8080", api_key)
    callback = OptRunsCallback(tracker, dataset_name="hotpotqa-dev")
    dspy.configure(lm=dspy.LM("openai/gpt-4o-mini"), callbacks=[callback])
    optimizer = dspy.MIPROv2(metric=tracked_metric(my_metric), auto="light")
    best = optimizer.compile(program, trainset=trainset)       # DSPy 3.3.1 and later
    best = callback.compile(optimizer, program, trainset=trainset)  # DSPy 3.3.0 (works on 3.3.1 too)

Which DSPy hooks exist decides how a compile is seen:

* DSPy 3.3.1 (PR #10120) fires ``on_compile_start`` / ``on_compile_end`` around every
  ``Teleprompter.compile``: a plain ``optimizer.compile(...)`` is one run, and the nested compiles
  (MIPROv2's bootstrapping: nine for ``auto="light"``) are progress of that run.
* DSPy 3.3.0 has no compile events: only ``callback.compile(optimizer, ...)`` is tracked; it calls
  this callback's ``on_compile_start`` / ``on_compile_end`` itself with the arguments DSPy's own
  events use. On 3.3.1 DSPy's pair for the same optimizer is recognised as the same compile.

Evaluations are ``on_evaluate_start`` / ``on_evaluate_end`` with MIPROv2's
``callback_metadata={"metric_key": "eval_minibatch" | "eval_full"}``: one iteration each, numbered in
order from 1, which are MIPROv2's trial numbers (trial 1 is the default program's full evaluation,
the ``baseline``). DSPy's scores are 100 × the mean metric; they are stored as fractions, divided by
the metric's ``scale`` too, with DSPy's own value in the iteration's metadata. An evaluation DSPy
cancels (``max_errors``, 10 by default, items raised) is an iteration without a score, the error in
its metadata; MIPROv2's 0.0 stand-in for it is never taken as a score.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import queue
import threading
import time
import uuid
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _dspy_programs as p
from . import _values as v
from ._otel import ExampleSpan
from .client import Run, Tracker

logger = logging.getLogger("optruns.dspy")

example_id = p.example_id
_signature = p.signature  # kept for callers of the earlier private name


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
# evaluation even when several optimizations evaluate the same examples at once. The call id is
# DSPy's, the same for every callback, so the context is entered once per evaluation (by the first
# callback to see it) and left when the last one is done with it: contexts stay properly nested.
CONTEXT_KEY = "optruns_evaluation"
_contexts: Dict[str, List[Any]] = {}  # Evaluate call id -> [the entered dspy.context, how many callbacks use it]

OPTIMIZER_TYPES = {
    "MIPROv2": "miprov2",
    "BootstrapFewShot": "bootstrap_fewshot",
    "BootstrapFewShotWithRandomSearch": "bootstrap_fewshot_random_search",
    "COPRO": "copro",
    "GEPA": "gepa",
    "SIMBA": "simba",
}
_MAX_KEPT_CALLS = 10_000
_CANDIDATES_PER_REQUEST = 1000

# Every callback alive, so a metric (which DSPy calls without the callback) finds the evaluations
# each of them tracks. The state itself is per callback.
_callbacks: "weakref.WeakSet[OptRunsCallback]" = weakref.WeakSet()
_callbacks_lock = threading.Lock()


def _live_callbacks() -> List["OptRunsCallback"]:
    with _callbacks_lock:
        return list(_callbacks)


class OptRunsCallback(_BaseCallback):  # type: ignore[misc,valid-type]
    """Records DSPy optimizations in OptimizationRuns. Each callback keeps its own state, so several
    (other trackers, other projects) can track the same optimization.

    :param tracker: where to send the runs
    :param run_name: the run's name (default ``<Program>-<optimizer>-<time>``)
    :param percent: DSPy evaluation scores are percentages (``True`` for DSPy's ``Evaluate``)
    :param scale: the metric's maximum when it is not wrapped by :func:`tracked_metric` (a wrapped
        metric's own ``scale`` wins): scores are divided by it into [0, 1]
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
        scale: float = 1.0,
        complete_runs: bool = True,
        flush_timeout: float = 300.0,
        **run_fields: Any,
    ) -> None:
        if not scale or scale <= 0:
            raise ValueError(f"scale must be a positive number, not {scale!r}")
        self.tracker = tracker
        self.run_name = run_name
        self.percent = percent
        self.scale = float(scale)
        self.complete_runs = complete_runs
        self.flush_timeout = flush_timeout
        self.run_fields = run_fields
        self.runs: List[Run] = []  # every run this callback created, in order
        self.compiles: List[_Compile] = []  # every compile it tracked (what it recorded, for inspection)
        self._lock = threading.Lock()
        self._compiles: Dict[str, Tuple[str, _Compile]] = {}  # compile call id -> (role, compile)
        self._active: List[_Compile] = []
        # The compile being tracked in this thread / task (set by on_compile_start, reset by on_compile_end).
        self._current: contextvars.ContextVar[Optional[_Compile]] = contextvars.ContextVar(
            f"optruns_compile_{uuid.uuid4().hex[:12]}", default=None)
        self._evaluations: Dict[str, _Evaluation] = {}  # Evaluate call id -> its evaluation
        self._programs: Dict[int, List[_Evaluation]] = {}  # id(evaluated program) -> live evaluations of it
        self._program_calls: Dict[str, _ProgramCall] = {}  # module call id -> an evaluated program's call
        self._finished_calls: Dict[int, Tuple[Any, _ProgramCall]] = {}  # id(prediction) -> (prediction, call)
        self._lm_calls: Dict[str, Tuple[Any, _ProgramCall]] = {}  # LM call id -> (LM, the program call it serves)
        self._thread = threading.local()  # the evaluated program calls running in this thread
        with _callbacks_lock:
            _callbacks.add(self)

    # The bracket DSPy 3.3.0 lacks ----------------------------------------------------------------

    def compile(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Runs ``optimizer.compile(*args, **kwargs)`` as one tracked run and returns its result.

        Where DSPy fires no compile events (3.3.0), every ``OptRunsCallback`` configured in DSPy gets
        this bracket too, as DSPy 3.3.1 would give them its events; where it does, only this one."""
        call_id = uuid.uuid4().hex
        inputs = p.bind_compile(optimizer, args, kwargs)
        brackets = [self]
        if not _dspy_fires_compile_events():
            configured = _dspy_setting("callbacks") or []
            brackets += [cb for cb in configured if isinstance(cb, OptRunsCallback) and cb is not self]
        for callback in brackets:
            callback.on_compile_start(call_id=call_id, instance=optimizer, inputs=inputs)
        result: Any = None
        error: Optional[BaseException] = None
        try:
            result = optimizer.compile(*args, **kwargs)
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            for callback in brackets:
                callback.on_compile_end(call_id=call_id, outputs=result, exception=error)

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
        current = self._current.get()
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
        compile_.token = self._current.set(compile_)
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
                self._current.reset(compile_.token)
        except ValueError:
            self._current.set(None)  # ended in another context than it started: forget it here
        try:
            compile_.finish(outputs, exception)
        finally:
            with self._lock:
                if compile_ in self._active:
                    self._active.remove(compile_)

    # Evaluation events ---------------------------------------------------------------------------

    def on_evaluate_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        try:
            with self._lock:
                if call_id in self._evaluations:
                    return
            compile_ = self._compile_for_evaluation()
            if compile_ is None:
                return  # an evaluation outside any tracked compile
            compile_.evaluation_started(call_id, instance, inputs or {})
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_evaluate_start failed")

    def on_evaluate_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        try:
            with self._lock:
                evaluation = self._evaluations.get(call_id)
            if evaluation is not None:
                evaluation.compile.evaluation_ended(evaluation, outputs, exception)
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_evaluate_end failed")

    def _compile_for_evaluation(self) -> Optional["_Compile"]:
        current = self._current.get()
        if current is not None and not current.ended:
            return current
        with self._lock:
            active = [c for c in self._active if not c.ended]
        # Evaluated off the compile's thread: unambiguous only when one compile is running.
        return active[0] if len(active) == 1 else None

    def _register(self, evaluation: "_Evaluation") -> None:
        with self._lock:
            self._evaluations[evaluation.call_id] = evaluation
            self._programs.setdefault(id(evaluation.program), []).append(evaluation)

    def _unregister(self, evaluation: "_Evaluation") -> None:
        with self._lock:
            self._evaluations.pop(evaluation.call_id, None)
            siblings = self._programs.get(id(evaluation.program), [])
            if evaluation in siblings:
                siblings.remove(evaluation)
            if not siblings:
                self._programs.pop(id(evaluation.program), None)
        # Its program calls still running (DSPy does not wait for them after a cancellation) stay known
        # until they end, so their spans end too; they record nothing more.

    def find_evaluation(self, example: Any) -> Optional["_Evaluation"]:
        """The live evaluation of this callback that holds this very example object."""
        call_id = _dspy_setting(CONTEXT_KEY)
        with self._lock:
            if call_id is not None:
                evaluation = self._evaluations.get(call_id)
                return evaluation if evaluation is not None and evaluation.contains(example) else None
            # Without DSPy's context: the one live evaluation holding this very example object.
            holders = [e for e in self._evaluations.values() if e.contains(example)]
        if len(holders) == 1:
            return holders[0]
        if holders:
            current = self._current.get()
            mine = [e for e in holders if e.compile is current]
            if len(mine) == 1:
                return mine[0]
            _warn_once("ambiguous", "optruns: an example is in several live evaluations and DSPy's context is not "
                                    "available; its sample is recorded from the evaluation's results instead")
        return None

    # Module events: the evaluated program's calls (latency, failures, span), MIPROv2's proposal phase

    def on_module_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        try:
            evaluation = self._evaluation_of_program(instance)
            if evaluation is not None:
                call = _ProgramCall(evaluation, instance, inputs or {})
                with self._lock:
                    self._program_calls[call_id] = call
                self._stack().append(call)
            module = type(instance).__module__ or ""
            if module.startswith("dspy.propose"):
                current = self._current.get()
                if current is not None and current.phase == "bootstrapping":
                    current.progress("proposing", "proposing instruction candidates")
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_module_start failed")

    def on_module_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        try:
            with self._lock:
                call = self._program_calls.pop(call_id, None)
            if call is None:
                return
            stack = self._stack()
            if call in stack:
                stack.remove(call)
            call.ended(exception)
            if exception is not None:
                call.evaluation.record_failure(call, exception)
            elif outputs is not None:
                with self._lock:
                    if len(self._finished_calls) >= _MAX_KEPT_CALLS:
                        self._finished_calls.pop(next(iter(self._finished_calls)))
                    self._finished_calls[id(outputs)] = (outputs, call)
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_module_end failed")

    def _evaluation_of_program(self, instance: Any) -> Optional["_Evaluation"]:
        with self._lock:
            evaluations = [e for e in self._programs.get(id(instance), []) if e.program is instance]
        if len(evaluations) <= 1:
            return evaluations[0] if evaluations else None
        call_id = _dspy_setting(CONTEXT_KEY)
        return next((e for e in evaluations if e.call_id == call_id), None)

    def _stack(self) -> List["_ProgramCall"]:
        stack = getattr(self._thread, "calls", None)
        if stack is None:
            stack = self._thread.calls = []
        return stack

    def take_call(self, prediction: Any) -> Optional["_ProgramCall"]:
        """The finished program call that returned this prediction (once)."""
        with self._lock:
            entry = self._finished_calls.get(id(prediction))
            if entry is None or entry[0] is not prediction:
                return None
            del self._finished_calls[id(prediction)]
            return entry[1]

    # LM events: the provider's cost (and tokens) from the LM's history, for the example being run ---

    def on_lm_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        stack = self._stack()
        if stack:
            with self._lock:
                self._lm_calls[call_id] = (instance, stack[-1])

    def on_lm_end(self, call_id: str, outputs: Any = None, exception: Optional[BaseException] = None) -> None:
        try:
            with self._lock:
                lm, call = self._lm_calls.pop(call_id, (None, None))
            if call is not None and exception is None:
                call.add_lm_call(p.history_entry(lm, outputs))
        except Exception:  # noqa: BLE001
            logger.exception("optruns: on_lm_end failed")

    # The rest of DSPy's hooks: nothing to record (defined so the class works without DSPy too).

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
    iteration, progress and candidate records, so the optimization never waits on the gateway."""

    def __init__(self, callback: OptRunsCallback, call_id: str, optimizer: Any, inputs: Dict[str, Any]) -> None:
        self.callback = callback
        self.call_id = call_id
        self.optimizer = optimizer
        self.inputs = inputs
        self.optimizer_type = OPTIMIZER_TYPES.get(type(optimizer).__name__, "custom")
        self.scale = _scale_of(getattr(optimizer, "metric", None), callback.scale)
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
        # iteration -> {"kind", "score" (fraction sent), "raw" (DSPy's score), "real" (not cancelled), "signature"}
        self.iterations: Dict[int, Dict[str, Any]] = {}
        self.best_full: Optional[float] = None
        self.final_score: Optional[float] = None
        self.backfilled: Dict[int, Dict[str, Any]] = {}  # iteration -> params sent at the end
        self.backfill_outcomes: Dict[int, str] = {}
        self.candidates: List[Dict[str, Any]] = []  # the candidates sent at the end
        self._records: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._sender: Optional[threading.Thread] = None

    # Start and end -------------------------------------------------------------------------------

    def start(self) -> None:
        cb = self.callback
        student = self.inputs.get("student", self.inputs.get("program"))
        lm = _dspy_setting("lm")
        config, task_model, prompt_model = p.optimizer_config(self.optimizer, self.inputs, lm)
        self.total_iterations = p.estimate_iterations(self.optimizer, self.inputs, config, student)
        fields = dict(cb.run_fields)
        metadata = dict(fields.pop("metadata", None) or {})
        version = getattr(_dspy, "__version__", None) if _dspy is not None else None
        metadata.setdefault("dspy", p.compile_metadata(self.optimizer, self.inputs, student, version))
        if self.scale != 1:
            metadata["dspy"]["metricScale"] = self.scale
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
        trial_logs = getattr(outputs, "trial_logs", None) if exception is None else None
        if isinstance(trial_logs, dict):
            self._record_candidates(trial_logs)
            self._backfill(trial_logs)
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
        self.final_score = self._real_final_score(_number(getattr(outputs, "score", None)))
        try:
            run.complete(final_score=self.final_score, optimized_program=p.program_state(outputs), percent=False)
        except Exception as exc:  # e.g. a sample batch the gateway refused: say so on the run
            run.fail(exc, error_message=f"the optimization completed but its records did not: {exc}")
            raise

    def _real_final_score(self, raw: Optional[float]) -> Optional[float]:
        """The returned program's score, if a real full evaluation gave it; else the best real full score.
        MIPROv2 scores a cancelled evaluation 0.0, which may be what it returns as best."""
        if raw is None:
            return self.best_full
        with self._lock:
            real = [i for i in self.iterations.values()
                    if i["real"] and i["kind"] in ("baseline", "full") and i["raw"] is not None and abs(i["raw"] - raw) < 1e-6]
        if real:
            return real[0]["score"]
        logger.warning("optruns: run %s: DSPy's final score %s matches no completed full evaluation (a cancelled "
                       "evaluation's placeholder?); the run's final score is the best real one", self.run.id if self.run else "?", raw)
        return self.best_full

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
                                 tracked=isinstance(metric, TrackedMetric), scale=_scale_of(metric, self.scale))
        with self._lock:
            self.iterations[iteration] = {"kind": kind, "score": None, "raw": None, "real": False,
                                          "signature": evaluation.signature}
        evaluation.enter()
        run = self.run
        started_at = v.utc_now()
        candidate = p.describe_program(program)
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
        raw = _number(getattr(outputs, "score", outputs)) if exception is None else None
        score, problem = self._scaled(raw, evaluation.scale)
        totals = evaluation.totals()
        iteration, kind = evaluation.iteration, evaluation.kind
        with self._lock:
            self.iterations[iteration].update(score=score, raw=raw, real=exception is None)
            if score is not None and kind in ("baseline", "full") and (self.best_full is None or score > self.best_full):
                self.best_full = score
        metadata: Dict[str, Any] = {"dspyScore": raw}
        if exception is not None:
            # DSPy's Evaluate raised (ParallelExecutor cancels at max_errors): no score, not MIPROv2's 0.0.
            metadata["error"] = f"{type(exception).__name__}: {exception}"
            metadata["samplesRecorded"] = totals.get("samples_evaluated", 0)
        if problem:
            metadata["scoreError"] = problem
            logger.warning("optruns: run %s, iteration %d: %s", run.id, iteration, problem)
        completed_at = v.utc_now()
        self._submit(lambda: run.log_iteration(
            iteration, score, kind=kind, completed_at=completed_at, percent=False, metadata=v.compact(metadata) or None,
            **totals))
        shown = f"{score:.4f}" if score is not None else ("cancelled" if exception is not None else "no score")
        self.progress(None, f"trial {iteration}: {kind} {shown}", iteration)

    def _scaled(self, raw: Optional[float], scale: float) -> Tuple[Optional[float], Optional[str]]:
        """DSPy's score as a fraction: ÷ 100 for a percentage, ÷ the metric's scale; or why it cannot be one."""
        if raw is None:
            return None, None
        fraction = raw / (100.0 if self.callback.percent else 1.0) / scale
        if 0 <= fraction <= 1:
            return round(fraction, 4), None
        return None, (f"DSPy's score {raw} is {fraction:g} after scaling (metric scale {scale:g}), outside [0, 1]: "
                      "not stored as a score; pass tracked_metric(metric, scale=<the metric's maximum>)")

    # The trial log: candidates and chosen indices per predictor -----------------------------------

    def _record_candidates(self, trial_logs: Dict[Any, Any]) -> None:
        """Every instruction text and demo set MIPROv2 tried, under the indices its trials name."""
        candidates = p.candidates_from_trials(trial_logs)
        if not candidates or self.run is None:
            return
        self.candidates = candidates
        run = self.run
        for start in range(0, len(candidates), _CANDIDATES_PER_REQUEST):
            chunk = candidates[start:start + _CANDIDATES_PER_REQUEST]
            self._submit(functools.partial(run.log_candidates, chunk))

    def _backfill(self, trial_logs: Dict[Any, Any]) -> None:
        """MIPROv2 attaches ``trial_logs`` to the program it returns: per trial, the chosen instruction
        and demo-set index of every predictor (``"0_predictor_instruction"``…). Re-send each iteration
        with those indices as its ``params``; full evaluations take the indices of the minibatch trial
        whose program they evaluated, the baseline is candidate 0 everywhere (MIPROv2's default)."""
        if self.run is None:
            return
        params_by_trial = {int(t): p.trial_params(e) for t, e in trial_logs.items() if p.trial_params(e)}
        keys_seen: Dict[str, set] = {}
        for predictors in params_by_trial.values():
            for predictor, indices in predictors.items():
                keys_seen.setdefault(predictor, set()).update(indices)
        with self._lock:
            iterations = {k: dict(val) for k, val in self.iterations.items()}
        by_signature = {iterations[t]["signature"]: prm for t, prm in params_by_trial.items() if t in iterations}
        for trial in sorted(int(t) for t in trial_logs):
            known = iterations.get(trial)
            entry = trial_logs.get(trial) or trial_logs.get(str(trial)) or {}
            if known is None or not known["real"] or known["score"] is None or not _same_trial(entry, known["raw"]):
                continue  # not an evaluation this callback numbered as that trial: leave it alone
            predictors = params_by_trial.get(trial)
            if predictors is None and known["kind"] == "baseline":
                predictors = {prd: {k: 0 for k in sorted(ks)} for prd, ks in keys_seen.items()}
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


class _ProgramCall:
    """One call of an evaluated program (one example being run), from DSPy's module start to end:
    its latency, the cost and tokens of the LM calls it made, and its span."""

    def __init__(self, evaluation: "_Evaluation", program: Any, inputs: Dict[str, Any]) -> None:
        self.evaluation = evaluation
        self._started = time.perf_counter()
        self.latency_ms: Optional[float] = None
        kwargs = inputs.get("kwargs") if isinstance(inputs.get("kwargs"), dict) else None
        self.inputs_key = p.inputs_key(kwargs) if kwargs is not None and not inputs.get("args") else None
        self.cost: Optional[float] = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.lm_calls = 0
        self.cached_calls = 0
        index = evaluation.index_for_inputs(self.inputs_key)
        example = evaluation.devset[index] if index is not None else None
        run = evaluation.compile.run
        self.span = ExampleSpan(type(program).__name__, v.compact({
            "optruns.run_id": run.id if run is not None else None,
            "optruns.iteration": evaluation.iteration,
            "optruns.sample_index": index,
            "optruns.example_id": p.example_id(example) if example is not None else None,
        }))

    def add_lm_call(self, entry: Optional[Dict[str, Any]]) -> None:
        self.lm_calls += 1
        if entry is None:
            return
        usage = entry.get("usage") or {}
        if not usage:
            self.cached_calls += 1  # DSPy records no usage and no cost for a cache hit
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        cost = _number(entry.get("cost"))
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost

    def ended(self, exception: Optional[BaseException]) -> None:
        self.latency_ms = (time.perf_counter() - self._started) * 1000.0
        self.span.end(exception)


class _Evaluation:
    """One ``Evaluate`` call: its iteration, its examples' indices, and the samples recorded so far."""

    def __init__(self, compile_: _Compile, call_id: str, iteration: int, kind: str, devset: List[Any], program: Any,
                 *, tracked: bool, scale: float) -> None:
        self.compile = compile_
        self.call_id = call_id
        self.iteration = iteration
        self.kind = kind
        self.devset = devset
        self.program = program
        self.tracked = tracked
        self.scale = scale
        self.signature = p.signature(program)
        self._lock = threading.Lock()
        self._indices: Dict[int, List[int]] = {}
        for index, example in enumerate(devset):
            self._indices.setdefault(id(example), []).append(index)
        self._by_inputs: Optional[Dict[str, List[int]]] = None
        self._claimed: set = set()
        self._recorded: Dict[int, bool] = {}  # index -> success
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._cost = 0.0
        self._entered = False
        self.closed = False  # DSPy's Evaluate returned or raised

    def enter(self) -> None:
        self.compile.callback._register(self)
        if _dspy is None or not hasattr(_dspy, "context"):
            return
        # Entered here and left in on_evaluate_end: both run in the caller's thread, around Evaluate.__call__.
        with _callbacks_lock:
            shared = _contexts.get(self.call_id)
            if shared is None:
                context = _dspy.context(**{CONTEXT_KEY: self.call_id})
                context.__enter__()
                shared = _contexts[self.call_id] = [context, 0]
            shared[1] += 1
        self._entered = True

    def exit(self) -> None:
        self.closed = True
        if self._entered:
            self._entered = False
            with _callbacks_lock:
                shared = _contexts.get(self.call_id)
                if shared is not None:
                    shared[1] -= 1
                    if shared[1] <= 0:
                        del _contexts[self.call_id]
                        try:
                            shared[0].__exit__(None, None, None)
                        except Exception:  # noqa: BLE001
                            logger.debug("optruns: leaving dspy.context failed", exc_info=True)
        self.compile.callback._unregister(self)

    def contains(self, example: Any) -> bool:
        return id(example) in self._indices

    def index_for_inputs(self, key: Optional[str]) -> Optional[int]:
        """The first not yet claimed example whose inputs are these (a program call knows only its inputs)."""
        if key is None:
            return None
        with self._lock:
            if self._by_inputs is None:
                self._by_inputs = {}
                for index, example in enumerate(self.devset):
                    example_key = p.example_inputs_key(example)
                    if example_key is not None:
                        self._by_inputs.setdefault(example_key, []).append(index)
            indices = self._by_inputs.get(key) or []
            return next((i for i in indices if i not in self._claimed), indices[0] if indices else None)

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

    def record_failure(self, call: _ProgramCall, exception: BaseException) -> None:
        """The program raised for an example: a failed sample with the error, as soon as it happens
        (DSPy may cancel the evaluation, and then returns no results at all)."""
        index = self.index_for_inputs(call.inputs_key)
        if index is None or self.closed:
            return
        with self._lock:
            if index in self._claimed:
                return
            self._claimed.add(index)
        self.record(index, self.devset[index], None, error=exception, call=call)

    def record(self, index: int, example: Any, prediction: Any, *, result: Any = None,
               error: Optional[BaseException] = None, call: Optional[_ProgramCall] = None,
               scale: Optional[float] = None) -> None:
        run = self.compile.run
        if run is None:
            return
        raw = _number(getattr(result, "score", result)) if error is None else None
        score = None
        if raw is not None:
            scaled = raw / (scale or self.scale)
            if 0 <= scaled <= 1:
                score = scaled
            else:
                _warn_once("scale", f"optruns: a metric value ({raw}) is outside [0, 1] after scaling by "
                                    f"{scale or self.scale:g}: the sample is recorded without a score; use "
                                    "tracked_metric(metric, scale=<the metric's maximum>)")
        prompt_tokens, completion_tokens = p.prediction_tokens(prediction)
        if prompt_tokens is None and call is not None and call.lm_calls > call.cached_calls:
            prompt_tokens, completion_tokens = call.prompt_tokens, call.completion_tokens
        cost = call.cost if call is not None else None
        trace_id, span_id = call.span.ids if call is not None else (None, None)
        success = error is None
        with self._lock:
            if index in self._recorded:
                return
            self._recorded[index] = success
            self._prompt_tokens += prompt_tokens or 0
            self._completion_tokens += completion_tokens or 0
            self._cost += cost or 0.0
        run.log_sample(
            self.iteration,
            sample_index=index,
            example_id=p.example_id(example),
            inputs=p.example_part(example, "inputs"),
            expected=p.example_part(example, "labels"),
            prediction=prediction,
            score=score,
            success=success,
            error=f"{type(error).__name__}: {error}" if error is not None else None,
            latency_ms=call.latency_ms if call is not None else None,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            trace_id=trace_id,
            span_id=span_id,
        )

    def record_results(self, results: List[Any]) -> None:
        """Samples for the examples not recorded yet: all of them when the metric is not wrapped, and
        those whose program raised unseen (DSPy scores them ``failure_score`` with an empty prediction)."""
        run = self.compile.run
        if run is None:
            return
        callback = self.compile.callback
        for index, row in enumerate(results):
            with self._lock:
                if index in self._recorded:
                    continue
            try:
                example, prediction, result = row
            except (TypeError, ValueError):
                continue
            if self.tracked or p.is_empty(prediction):
                with self._lock:
                    self._recorded[index] = False
                run.log_sample(
                    self.iteration, sample_index=index, example_id=p.example_id(example),
                    inputs=p.example_part(example, "inputs"), expected=p.example_part(example, "labels"),
                    score=_fraction(result, self.scale), success=False,
                    error="the program raised before the metric ran (DSPy logged the exception)",
                )
            else:
                self.record(index, example, prediction, result=result, call=callback.take_call(prediction))

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


class TrackedMetric:
    """A metric that also records each evaluated example as a sample of the evaluation's iteration.

    Called exactly like the metric it wraps; outside a tracked evaluation (e.g. while bootstrapping
    demos, when DSPy passes a ``trace``) it only calls the metric. ``scale`` is the metric's maximum
    (e.g. ``scale=5`` for a 1-5 judge): sample, iteration and final scores are divided by it.
    """

    def __init__(self, metric: Callable[..., Any], *, scale: float = 1.0) -> None:
        if not scale or scale <= 0:
            raise ValueError(f"scale must be a positive number, not {scale!r}")
        self.metric = metric
        self.scale = float(scale)
        functools.update_wrapper(self, metric)  # type: ignore[arg-type]

    def __call__(self, example: Any, prediction: Any, *args: Any, **kwargs: Any) -> Any:
        trace = args[0] if args else kwargs.get("trace")
        claims = []
        if trace is None:
            for callback in _live_callbacks():
                evaluation = callback.find_evaluation(example)
                if evaluation is None:
                    continue
                index, recorded = evaluation.claim(example)
                if index is not None and not recorded:
                    claims.append((evaluation, index, callback.take_call(prediction)))
        if not claims:
            return self.metric(example, prediction, *args, **kwargs)
        try:
            result = self.metric(example, prediction, *args, **kwargs)
        except Exception as exc:
            for evaluation, index, call in claims:
                _safely(evaluation.record, index, example, prediction, error=exc, call=call, scale=self.scale)
            raise
        for evaluation, index, call in claims:
            _safely(evaluation.record, index, example, prediction, result=result, call=call, scale=self.scale)
        return result


def tracked_metric(metric: Callable[..., Any], *, scale: float = 1.0) -> TrackedMetric:
    """Wraps a DSPy metric so each evaluated example becomes a sample (see :class:`TrackedMetric`)."""
    return metric if isinstance(metric, TrackedMetric) else TrackedMetric(metric, scale=scale)


# Small helpers ---------------------------------------------------------------------------------

def _dspy_setting(key: str) -> Any:
    if _dspy is None:
        return None
    try:
        return _dspy.settings.get(key)
    except Exception:  # noqa: BLE001
        return None


def _dspy_fires_compile_events() -> bool:
    """DSPy 3.3.1 and later: ``BaseCallback.on_compile_start`` exists and every compile fires it."""
    callback_module = getattr(getattr(_dspy, "utils", None), "callback", None)
    return hasattr(getattr(callback_module, "BaseCallback", None), "on_compile_start")


def _scale_of(metric: Any, default: float) -> float:
    return metric.scale if isinstance(metric, TrackedMetric) else default


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return number if number == number and abs(number) != float("inf") else None
    return None


def _fraction(value: Any, scale: float) -> Optional[float]:
    number = _number(value)
    if number is None:
        return None
    number /= scale
    return number if 0 <= number <= 1 else None


def _same_trial(entry: Dict[str, Any], raw: Optional[float]) -> bool:
    logged = _number(entry.get("mb_score", entry.get("full_eval_score", entry.get("score"))))
    if logged is None or raw is None:
        return logged is None
    return abs(logged - raw) < 1e-6


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
