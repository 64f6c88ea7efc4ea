"""A STAND-IN for the parts of DSPy 3.3.1 that ``optruns.dspy`` meets. It is not DSPy.

DSPy cannot be installed where these tests run, so this module makes the calls DSPy makes, in the
same order and with the same arguments. Each behaviour the adapter depends on cites the file and
line of DSPy's source (github.com/stanfordnlp/dspy) it mirrors, at tag 3.3.1 unless said otherwise;
the files cited are identical at 3.3.0 except ``dspy/utils/callback.py``, ``dspy/teleprompt/teleprompt.py``
and ``dspy/utils/parallelizer.py`` (compile events and the results sentinel came with 3.3.1).
``use_version("3.3.0")`` switches to 3.3.0's behaviour: no compile events.

Its "LM" is arithmetic: an answer is right when the program's quality (instruction and demos) beats
the example's difficulty, so better candidates score better and minibatch scores are noisy. The LM
call exists for what DSPy keeps of it: callbacks, usage (tokens) and history (cost).
"""

from __future__ import annotations

import contextvars
import copy
import hashlib
import inspect
import logging
import math
import random
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Optional

__version__ = "3.3.1-standin"
logger = logging.getLogger("dspy_standin")
logger.addHandler(logging.NullHandler())  # DSPy logs item errors; the tests need not show them
logger.propagate = False

# dspy/utils/callback.py:288-306 and dspy/teleprompt/teleprompt.py:57-62: on_compile_start/end around
# every Teleprompter.compile, new in 3.3.1 (PR #10120); 3.3.0 has neither.
COMPILE_EVENTS = True
ACTIVE_CALL_ID: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("active_call_id", default=None)
# dspy/utils/callback_context.py:6: the compiles running in this context, by (instance, thread, task).
_ACTIVE_COMPILES: contextvars.ContextVar[tuple] = contextvars.ContextVar("active_compiles", default=())
# dspy/teleprompt/mipro_optimizer_v2.py:28-38: MIPROv2 imports Optuna when the search starts.
OPTUNA_INSTALLED = True


def use_version(version: str) -> None:
    """Behave like DSPy ``version`` (3.3.0 or 3.3.1) where they differ for the adapter."""
    global COMPILE_EVENTS, __version__
    COMPILE_EVENTS = version != "3.3.0"
    __version__ = f"{version}-standin"
    for name in ("on_compile_start", "on_compile_end"):
        if COMPILE_EVENTS:
            setattr(BaseCallback, name, _noop)
        elif name in vars(BaseCallback):
            delattr(BaseCallback, name)


def _noop(self: Any, *args: Any, **kwargs: Any) -> None:
    pass


# settings ----------------------------------------------------------------------------------------

class _Settings:
    def __init__(self) -> None:
        # dspy/dsp/utils/settings.py:20-38: the defaults (max_errors=10 at :32, num_threads=8 at :31).
        self._main: Dict[str, Any] = {"lm": None, "callbacks": [], "num_threads": 8, "max_errors": 10,
                                      "track_usage": False, "usage_tracker": None, "disable_history": False}
        self._local = threading.local()

    def overrides(self) -> Dict[str, Any]:
        return getattr(self._local, "overrides", {})

    def set_overrides(self, overrides: Dict[str, Any]) -> None:
        self._local.overrides = overrides

    def get(self, key: str, default: Any = None) -> Any:
        overrides = self.overrides()
        if key in overrides:
            return overrides[key]
        return self._main.get(key, default)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self.get(key)

    def configure(self, **kwargs: Any) -> None:
        self._main.update(kwargs)

    @contextmanager
    def context(self, **kwargs: Any):  # type: ignore[no-untyped-def]
        original = dict(self.overrides())
        self.set_overrides({**original, **kwargs})
        try:
            yield
        finally:
            self.set_overrides(original)


settings = _Settings()
context = settings.context
configure = settings.configure


# callbacks ---------------------------------------------------------------------------------------

class BaseCallback:
    def on_module_start(self, call_id, instance, inputs): pass  # noqa: E704
    def on_module_end(self, call_id, outputs, exception=None): pass  # noqa: E704
    def on_lm_start(self, call_id, instance, inputs): pass  # noqa: E704
    def on_lm_end(self, call_id, outputs, exception=None): pass  # noqa: E704
    def on_adapter_format_start(self, call_id, instance, inputs): pass  # noqa: E704
    def on_adapter_format_end(self, call_id, outputs, exception=None): pass  # noqa: E704
    def on_adapter_parse_start(self, call_id, instance, inputs): pass  # noqa: E704
    def on_adapter_parse_end(self, call_id, outputs, exception=None): pass  # noqa: E704
    def on_tool_start(self, call_id, instance, inputs): pass  # noqa: E704
    def on_tool_end(self, call_id, outputs, exception=None): pass  # noqa: E704
    def on_evaluate_start(self, call_id, instance, inputs): pass  # noqa: E704
    def on_evaluate_end(self, call_id, outputs, exception=None): pass  # noqa: E704


# dspy.utils.callback.BaseCallback, where DSPy keeps it.
utils = type(sys)("dspy_standin.utils")
utils.callback = type(sys)("dspy_standin.utils.callback")  # type: ignore[attr-defined]
utils.callback.BaseCallback = BaseCallback  # type: ignore[attr-defined]


def _handler(callback: Any, instance: Any, end: bool) -> Callable[..., Any]:
    # dspy/utils/callback.py:402-413 (start) and :430-441 (end): chosen by the instance's class.
    suffix = "end" if end else "start"
    if isinstance(instance, BaseLM):
        return getattr(callback, f"on_lm_{suffix}")
    if isinstance(instance, Evaluate):
        return getattr(callback, f"on_evaluate_{suffix}")
    if isinstance(instance, Teleprompter):
        return getattr(callback, f"on_compile_{suffix}")
    return getattr(callback, f"on_module_{suffix}")


def with_callbacks(fn: Callable[..., Any]) -> Callable[..., Any]:
    """dspy/utils/callback.py:309-399: a call id, the bound arguments without ``self`` (:314-318), every
    start handler (errors only logged, :322-323), ACTIVE_CALL_ID around the call, every end handler."""
    def wrapper(instance: Any, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(settings.get("callbacks", [])) + list(getattr(instance, "callbacks", []))
        if not callbacks:
            return fn(instance, *args, **kwargs)
        call_id = uuid.uuid4().hex
        inputs = inspect.getcallargs(fn, instance, *args, **kwargs)
        inputs.pop("self", None)
        for callback in callbacks:
            try:
                _handler(callback, instance, end=False)(call_id=call_id, instance=instance, inputs=inputs)
            except Exception as e:  # noqa: BLE001 - as DSPy: a failing callback is logged, not raised
                logger.warning(f"Error when calling callback {callback}: {e}")
        results = None
        exception = None
        parent_call_id = ACTIVE_CALL_ID.get()
        ACTIVE_CALL_ID.set(call_id)
        try:
            results = fn(instance, *args, **kwargs)
            return results
        except BaseException as e:  # callback.py:392 (3.3.1 reports BaseException; 3.3.0 only Exception)
            exception = e
            raise
        finally:
            ACTIVE_CALL_ID.set(parent_call_id)
            for callback in callbacks:
                try:
                    _handler(callback, instance, end=True)(call_id=call_id, outputs=results, exception=exception)
                except Exception as e:  # noqa: BLE001
                    logger.warning(f"Error when applying callback {callback}'s end handler: {e}.")

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    wrapper.__name__ = fn.__name__
    return wrapper


def _with_compile_callbacks(fn: Callable[..., Any]) -> Callable[..., Any]:
    """dspy/teleprompt/teleprompt.py:12-50: compile events, once per (optimizer, thread, task): a compile
    that re-enters the same optimizer's compile in the same thread fires no second pair."""
    with_events = with_callbacks(fn)

    def compile(instance: Any, *args: Any, **kwargs: Any) -> Any:
        if not COMPILE_EVENTS:
            return fn(instance, *args, **kwargs)
        active = _ACTIVE_COMPILES.get()
        key = (id(instance), threading.get_ident(), None)
        if key in active:
            return fn(instance, *args, **kwargs)
        token = _ACTIVE_COMPILES.set((*active, key))
        try:
            return with_events(instance, *args, **kwargs)
        finally:
            _ACTIVE_COMPILES.reset(token)

    compile.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    compile.__wrapped__ = fn  # type: ignore[attr-defined]
    return compile


# primitives --------------------------------------------------------------------------------------

class Example:
    def __init__(self, base: Optional["Example"] = None, **kwargs: Any) -> None:
        self._store: Dict[str, Any] = dict(base._store) if base is not None else {}
        self._input_keys = base._input_keys if base is not None else None
        self._store.update(kwargs)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._store[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> Any:
        return self._store[key]

    def __len__(self) -> int:
        return len(self._store)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._store)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Example) and self._store == other._store

    __hash__ = object.__hash__

    def keys(self) -> List[str]:
        return list(self._store)

    def items(self) -> List[Any]:
        return list(self._store.items())

    def with_inputs(self, *keys: str) -> "Example":
        copied = Example(self)
        copied._input_keys = set(keys)
        if "question" in self._store and "answer" in self._store:
            _EXAMPLES_BY_QUESTION[self._store["question"]] = copied  # what the arithmetic LM knows
        return copied

    def inputs(self) -> "Example":
        if self._input_keys is None:
            raise ValueError("Inputs have not been set for this example. Use `example.with_inputs()` to set them.")
        result = Example(**{k: v for k, v in self._store.items() if k in self._input_keys})
        result._input_keys = self._input_keys
        return result

    def labels(self) -> "Example":
        keys = self._input_keys or set()
        return Example(**{k: v for k, v in self._store.items() if k not in keys})

    def toDict(self) -> Dict[str, Any]:  # noqa: N802 - DSPy's name
        return dict(self._store)


class Prediction(Example):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lm_usage: Optional[Dict[str, Dict[str, int]]] = None

    def get_lm_usage(self) -> Optional[Dict[str, Dict[str, int]]]:
        return self._lm_usage

    def set_lm_usage(self, usage: Dict[str, Dict[str, int]]) -> None:
        self._lm_usage = usage


class EvaluationResult(Prediction):
    def __init__(self, score: float, results: List[Any]) -> None:
        super().__init__(score=score, results=results)


class Signature:
    def __init__(self, spec: str, instructions: str) -> None:
        self.spec = spec
        self.instructions = instructions

    def with_instructions(self, instructions: str) -> "Signature":
        return Signature(self.spec, instructions)


# The LM ------------------------------------------------------------------------------------------

class _UsageTracker:
    """dspy/utils/usage_tracker.py:52-57: tokens per model, summed."""

    def __init__(self) -> None:
        self.usage: Dict[str, Dict[str, int]] = {}

    def add_usage(self, model: str, usage: Dict[str, int]) -> None:
        total = self.usage.setdefault(model, {})
        for key, value in usage.items():
            total[key] = total.get(key, 0) + value


class BaseLM:
    """dspy/clients/base_lm.py: ``__call__`` has callbacks (:321); a response adds tokens to the usage
    tracker unless it is a cache hit (:294-295) and appends a history entry whose ``outputs`` is the
    very list the call returns and whose ``cost`` is the provider's (None on a cache hit, :300-317)."""

    def __init__(self, model: str = "standin/lm", *, cost_per_call: Optional[float] = 0.0004, cache: bool = True) -> None:
        self.model = model
        self.cost_per_call = cost_per_call
        self.cache = cache
        self.history: List[Dict[str, Any]] = []
        self._cache: Dict[str, Any] = {}
        self._lock = threading.Lock()

    @with_callbacks
    def __call__(self, prompt: Optional[str] = None, messages: Any = None, **kwargs: Any) -> List[str]:
        with self._lock:
            cache_hit = self.cache and prompt in self._cache
            self._cache[prompt or ""] = True
        usage = {} if cache_hit else {"prompt_tokens": 20 + len(prompt or "") // 4, "completion_tokens": 9}
        outputs = [f"[[ ## answer ## ]] {kwargs.get('answer', '')}"]
        tracker = settings.get("usage_tracker")
        if not cache_hit and tracker is not None:
            tracker.add_usage(self.model, usage)
        if not settings.get("disable_history"):
            entry = {"prompt": prompt, "messages": messages, "kwargs": kwargs, "outputs": outputs, "usage": usage,
                     "cost": None if cache_hit else self.cost_per_call, "model": self.model}
            with self._lock:
                self.history.append(entry)
        return outputs


LM = BaseLM


# Modules -----------------------------------------------------------------------------------------

# Instruction quality, as the arithmetic "LM" sees it (deterministic in the text).
def _quality_of(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _difficulty(example: Example) -> float:
    return int(hashlib.sha256(str(example.toDict()).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


class Module:
    callbacks: List[Any] = []
    _compiled = False

    @with_callbacks
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # dspy/primitives/module.py:93-110: with track_usage, the outermost module call collects its LM
        # calls' tokens and attaches them to its prediction.
        if settings.get("track_usage") and settings.get("usage_tracker") is None:
            tracker = _UsageTracker()
            with settings.context(usage_tracker=tracker):
                output = self.forward(*args, **kwargs)
            if isinstance(output, Prediction):
                output.set_lm_usage(tracker.usage)
            return output
        return self.forward(*args, **kwargs)

    def forward(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    def named_predictors(self) -> List[Any]:
        return [(name, value) for name, value in vars(self).items() if isinstance(value, Predict)]

    def predictors(self) -> List["Predict"]:
        return [p for _, p in self.named_predictors()]

    def deepcopy(self) -> "Module":
        return copy.deepcopy(self)

    def reset_copy(self) -> "Module":
        program = copy.deepcopy(self)
        for predictor in program.predictors():
            predictor.demos = []
        return program

    def dump_state(self) -> Dict[str, Any]:
        return {name: {"signature": {"instructions": p.signature.instructions},
                       "demos": [d.toDict() for d in p.demos]} for name, p in self.named_predictors()}


class Predict(Module):
    def __init__(self, signature: Any) -> None:
        if isinstance(signature, str):  # "question -> answer", with DSPy's default instructions
            inputs, _, outputs = (part.strip() for part in signature.partition("->"))
            signature = Signature(signature, f"Given the fields `{inputs}`, produce the fields `{outputs}`.")
        self.signature = signature
        self.demos: List[Example] = []

    def named_predictors(self) -> List[Any]:
        return [("self", self)]  # a Predict used as the whole program is its own predictor, as in DSPy

    def forward(self, **kwargs: Any) -> Prediction:
        question = kwargs["question"]
        lm = settings.get("lm")
        if lm is None:
            raise AssertionError("No LM is loaded.")
        if "[fail]" in question:
            raise RuntimeError(f"the LM refused: {question}")
        quality = 0.25 + 0.5 * _quality_of(self.signature.instructions) + 0.03 * len(self.demos)
        known = _EXAMPLES_BY_QUESTION.get(question)
        expected = kwargs.get("_expected", known.answer if known is not None else "")
        difficulty = kwargs.get("_difficulty", _difficulty(known) if known is not None else 0.5)
        answer = expected if quality > difficulty else f"not {expected}"
        lm(prompt=f"{self.signature.instructions}\n{len(self.demos)} demos\n{question}", answer=answer)
        return Prediction(answer=answer)


ChainOfThought = Predict  # the arithmetic LM needs no reasoning step


class QA(Module):
    """The program under optimization: one predictor."""

    def __init__(self) -> None:
        self.generate = Predict(Signature("question -> answer", "Answer the question."))

    def forward(self, question: str) -> Prediction:
        example = _EXAMPLES_BY_QUESTION.get(question)
        return self.generate(question=question, _expected=example.answer if example is not None else "",
                             _difficulty=_difficulty(example) if example is not None else 0.5)


class TwoStepQA(QA):
    """A program with two predictors (MIPROv2 numbers them 0 and 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.check = Predict(Signature("question, answer -> answer", "Check the answer."))


_EXAMPLES_BY_QUESTION: Dict[str, Example] = {}


def make_examples(count: int, *, failing: int = 0, prefix: str = "q") -> List[Example]:
    """``count`` examples; the first ``failing`` of them make the program raise."""
    examples = []
    for i in range(count):
        question = f"{prefix}-{i} [fail]" if i < failing else f"{prefix}-{i}: what is {i} + {i}?"
        example = Example(question=question, answer=str(2 * i)).with_inputs("question")
        _EXAMPLES_BY_QUESTION[question] = example
        examples.append(example)
    return examples


def exact_match(example: Example, prediction: Prediction, trace: Any = None) -> bool:
    return example.answer == prediction.answer


# parallel execution and evaluation ---------------------------------------------------------------

# dspy/utils/parallelizer.py:29-30: a straggler is re-submitted once when it has run 120 s and at most 3
# items are pending. Evaluate passes neither (evaluate.py:162-168); tests may lower the time here.
STRAGGLER_TIMEOUT = 120.0
_UNSET = object()


class ParallelExecutor:
    def __init__(self, num_threads: Optional[int] = None, max_errors: Optional[int] = None,
                 timeout: Optional[float] = None, straggler_limit: int = 3) -> None:
        self.num_threads = num_threads or settings.get("num_threads")
        self.max_errors = settings.get("max_errors") if max_errors is None else max_errors
        self.timeout = STRAGGLER_TIMEOUT if timeout is None else timeout
        self.straggler_limit = straggler_limit
        self.error_count = 0
        self.error_lock = threading.Lock()
        self.cancel_jobs = threading.Event()

    def execute(self, function: Callable[[Any], Any], data: List[Any]) -> List[Any]:
        # parallelizer.py:57-74: an item's exception is counted and logged; at max_errors every job not yet
        # started is cancelled (:66-67); the items already running go on, their answers unread.
        def safe(item: Any) -> Any:
            if self.cancel_jobs.is_set():
                return None
            try:
                return function(item)
            except Exception as e:  # noqa: BLE001
                with self.error_lock:
                    self.error_count += 1
                    if self.error_count >= self.max_errors:
                        self.cancel_jobs.set()
                logger.error(f"Error for {item}: {e}. Set `provide_traceback=True` for traceback.")
                return e

        results: List[Any] = [_UNSET] * len(data)
        parent_overrides = dict(settings.overrides())
        started: Dict[int, float] = {}
        cancelled = "cancelled"

        def worker(submission: int, index: int, item: Any) -> Any:
            # parallelizer.py:118-136: the parent's dspy.context overrides, copied into the worker thread.
            if self.cancel_jobs.is_set():
                return index, cancelled
            started[submission] = time.time()
            original = settings.overrides()
            settings.set_overrides({**original, **parent_overrides})
            try:
                return index, safe(item)
            finally:
                settings.set_overrides(original)

        executor = ThreadPoolExecutor(max_workers=self.num_threads)
        try:
            submissions = {executor.submit(worker, i, i, item): (i, i, item) for i, item in enumerate(data)}
            pending = set(submissions)
            resubmitted: set = set()
            counter = len(data)
            # parallelizer.py:182-220: until all are done or the jobs are cancelled; an exception is kept
            # aside (:234-241), so the item stays unanswered and Evaluate scores it failure_score.
            while pending and not self.cancel_jobs.is_set():
                done, pending = wait(pending, timeout=1, return_when=FIRST_COMPLETED)
                for future in done:
                    index, outcome = future.result()
                    if outcome is not cancelled and results[index] is _UNSET and not isinstance(outcome, Exception):
                        results[index] = outcome
                if all(r is not _UNSET for r in results):
                    break
                if 0 < self.timeout and len(pending) <= self.straggler_limit:
                    now = time.time()
                    for future in list(pending):
                        submission, index, item = submissions[future]
                        begun = started.get(submission)
                        if future not in resubmitted and begun and now - begun >= self.timeout:
                            resubmitted.add(future)
                            again = executor.submit(worker, counter, index, item)
                            submissions[again] = (counter, index, item)
                            pending.add(again)
                            counter += 1
        finally:
            executor.shutdown(wait=False)
        if self.cancel_jobs.is_set():  # parallelizer.py:228-230
            raise Exception("Execution cancelled due to errors or interruption.")
        return [None if r is _UNSET else r for r in results]


class Evaluate:
    """dspy/evaluate/evaluate.py:64-226."""

    def __init__(self, *, devset: List[Example], metric: Optional[Callable[..., Any]] = None,
                 num_threads: Optional[int] = None, display_progress: bool = False, display_table: Any = False,
                 max_errors: Optional[int] = None, provide_traceback: Optional[bool] = None,
                 failure_score: float = 0.0, save_as_csv: Optional[str] = None, save_as_json: Optional[str] = None,
                 **kwargs: Any) -> None:
        self.devset = devset
        self.metric = metric
        self.num_threads = num_threads
        self.display_progress = display_progress
        self.display_table = display_table
        self.max_errors = max_errors
        self.provide_traceback = provide_traceback
        self.failure_score = failure_score

    @with_callbacks
    def __call__(self, program: Module, metric: Optional[Callable[..., Any]] = None,
                 devset: Optional[List[Example]] = None, num_threads: Optional[int] = None,
                 display_progress: Optional[bool] = None, display_table: Any = None,
                 callback_metadata: Optional[Dict[str, Any]] = None, save_as_csv: Optional[str] = None,
                 save_as_json: Optional[str] = None) -> EvaluationResult:
        metric = metric if metric is not None else self.metric
        devset = devset if devset is not None else self.devset
        num_threads = num_threads if num_threads is not None else self.num_threads
        executor = ParallelExecutor(num_threads=num_threads,
                                    max_errors=self.max_errors if self.max_errors is not None else settings.get("max_errors"))

        def process_item(example: Example) -> Any:  # evaluate.py:170-173
            prediction = program(**example.inputs())
            score = metric(example, prediction)
            return prediction, score

        results = executor.execute(process_item, devset)
        # evaluate.py:178-180, 223-226: a failed item is (Prediction(), failure_score); the score is
        # 100 × the mean metric, unbounded (a 1-5 judge gives up to 500).
        results = [((Prediction(), self.failure_score) if r is None else r) for r in results]
        results = [(example, prediction, score) for example, (prediction, score) in zip(devset, results)]
        ncorrect, ntotal = sum(score for *_, score in results), len(devset)
        return EvaluationResult(score=round(100 * ncorrect / ntotal, 2), results=results)


# optimizers --------------------------------------------------------------------------------------

class Teleprompter:
    def __init_subclass__(cls, **kwargs: Any) -> None:
        # dspy/teleprompt/teleprompt.py:57-62: a subclass's own compile gets the compile events.
        super().__init_subclass__(**kwargs)
        if "compile" in cls.__dict__:
            cls.compile = _with_compile_callbacks(cls.__dict__["compile"])

    def get_params(self) -> Dict[str, Any]:
        return self.__dict__


class LabeledFewShot(Teleprompter):
    """dspy/teleprompt/vanilla.py:6-25: k labeled examples as every predictor's demos."""

    def __init__(self, k: int = 16) -> None:
        self.k = k

    def compile(self, student: Module, *, trainset: List[Example], sample: bool = True) -> Module:
        program = student.reset_copy()
        if not trainset:
            return program
        rng = random.Random(0)
        for predictor in program.predictors():
            predictor.demos = rng.sample(trainset, min(self.k, len(trainset))) if sample else trainset[: self.k]
        return program


class BootstrapFewShot(Teleprompter):
    """dspy/teleprompt/bootstrap.py:36-106: the teacher gets labeled demos through a nested
    ``LabeledFewShot.compile`` (:104-106); an example that raises counts towards max_errors (:213-221)."""

    def __init__(self, metric: Optional[Callable[..., Any]] = None, metric_threshold: Optional[float] = None,
                 teacher_settings: Optional[Dict[str, Any]] = None, max_bootstrapped_demos: int = 4,
                 max_labeled_demos: int = 16, max_rounds: int = 1, max_errors: Optional[int] = None) -> None:
        self.metric = metric
        self.metric_threshold = metric_threshold
        self.max_bootstrapped_demos = max_bootstrapped_demos
        self.max_labeled_demos = max_labeled_demos
        self.max_rounds = max_rounds
        self.max_errors = max_errors
        self.error_count = 0

    def compile(self, student: Module, *, teacher: Optional[Module] = None, trainset: List[Example]) -> Module:
        program = student.reset_copy()
        teacher = teacher.deepcopy() if teacher is not None else student.deepcopy()
        if self.max_labeled_demos and not teacher._compiled:
            teacher = LabeledFewShot(k=self.max_labeled_demos).compile(teacher.reset_copy(), trainset=trainset)
        demos = []
        for example in trainset:
            if len(demos) >= self.max_bootstrapped_demos:
                break
            try:
                prediction = teacher(**example.inputs())
                trace = [(teacher.predictors()[0], example.inputs().toDict(), prediction)]
                success = self.metric is None or self.metric(example, prediction, trace)
            except Exception:
                self.error_count += 1
                if self.error_count >= (self.max_errors if self.max_errors is not None else settings.get("max_errors")):
                    raise
                success = False
            if success:
                demos.append(example)
        for predictor in program.predictors():
            predictor.demos = list(demos)
        program._compiled = True
        return program


def create_minibatch(trainset: List[Example], batch_size: int = 50, rng: Optional[random.Random] = None) -> List[Example]:
    batch_size = min(batch_size, len(trainset))
    rng = rng or random
    return [trainset[i] for i in rng.sample(range(len(trainset)), batch_size)]


def eval_candidate_program(batch_size: int, trainset: List[Example], candidate_program: Module,
                           evaluate: Evaluate, rng: Optional[random.Random] = None) -> Any:
    # dspy/teleprompt/utils.py:45-62: full or minibatch by size; an evaluation that raises (e.g. cancelled
    # at max_errors) is logged and replaced by score 0.0 with no results.
    try:
        if batch_size >= len(trainset):
            return evaluate(candidate_program, devset=trainset, callback_metadata={"metric_key": "eval_full"})
        return evaluate(candidate_program, devset=create_minibatch(trainset, batch_size, rng),
                        callback_metadata={"metric_key": "eval_minibatch"})
    except Exception:  # noqa: BLE001 - as DSPy
        logger.error("An exception occurred during evaluation", exc_info=True)
        return Prediction(score=0.0, results=[])


def get_program_with_highest_avg_score(param_score_dict: Dict[str, List[Any]], fully_evaled: Dict[str, Any]) -> Any:
    # dspy/teleprompt/utils.py:116-140: the best mean among combinations not yet fully evaluated, else ValueError.
    means = sorted(((sum(s for s, *_ in values) / len(values), key, values[0][1], values[0][2])
                    for key, values in param_score_dict.items()), key=lambda r: r[0], reverse=True)
    for mean, key, program, params in means:
        if key not in fully_evaled:
            return program, mean, key, params
    raise ValueError("No valid program found in param_score_dict")


def create_n_fewshot_demo_sets(student: Module, num_candidate_sets: int, trainset: List[Example],
                               max_labeled_demos: int, max_bootstrapped_demos: int, metric: Any,
                               max_errors: Optional[int], teacher: Optional[Module], rng: random.Random) -> Dict[int, Any]:
    # dspy/teleprompt/utils.py:324-414: sets for seeds -3 (zero-shot, :364-366), -2 (LabeledFewShot.compile,
    # :368-375), -1 (BootstrapFewShot.compile on the unshuffled set, :377-388) and 0.. (shuffled, random
    # size, :390-409): for light (6 sets) 1 + 2 + 3 × 2 = 9 nested compiles, each bootstrap's teacher
    # compiled by LabeledFewShot too.
    demo_candidates: Dict[int, List[List[Example]]] = {i: [] for i in range(len(student.predictors()))}
    for seed in range(-3, num_candidate_sets - 3):
        shuffled = list(trainset)
        if seed == -3:
            compiled = student.reset_copy()
        elif seed == -2 and max_labeled_demos > 0:
            compiled = LabeledFewShot(k=max_labeled_demos).compile(student, trainset=shuffled, sample=True)
        else:
            size = max_bootstrapped_demos
            if seed != -1:
                rng.shuffle(shuffled)
                size = rng.randint(1, max_bootstrapped_demos)
            compiled = BootstrapFewShot(metric=metric, max_errors=max_errors, max_bootstrapped_demos=size,
                                        max_labeled_demos=max_labeled_demos).compile(student, teacher=teacher,
                                                                                     trainset=shuffled)
        for i, predictor in enumerate(compiled.predictors()):
            demo_candidates[i].append(predictor.demos)
    return demo_candidates


class GenerateModuleInstruction(Module):
    """Proposes one instruction (its class lives in ``dspy.propose`` in DSPy)."""

    def forward(self, index: int, predictor: int) -> Prediction:
        return Prediction(proposed_instruction=f"Instruction {index} for predictor {predictor}: think, then answer.")


GenerateModuleInstruction.__module__ = "dspy.propose.grounded_proposer"


class _Trial:
    def __init__(self, number: int, rng: random.Random) -> None:
        self.number = number
        self.params: Dict[str, int] = {}
        self._rng = rng

    def suggest_categorical(self, name: str, choices: Any) -> int:
        value = self._rng.choice(list(choices))
        self.params[name] = value
        return value


class _Study:
    """Optuna's trial numbering: add_trial and every optimize step take the next number."""

    def __init__(self, seed: int) -> None:
        self.trials: List[Any] = []
        self._rng = random.Random(seed)

    def add_trial(self, trial: Any) -> None:
        self.trials.append(trial)

    def optimize(self, objective: Callable[[_Trial], float], n_trials: int) -> None:
        for _ in range(n_trials):
            trial = _Trial(len(self.trials), self._rng)
            self.trials.append(trial)
            objective(trial)


# dspy/teleprompt/mipro_optimizer_v2.py:42-50
BOOTSTRAPPED_FEWSHOT_EXAMPLES_IN_CONTEXT = 3
LABELED_FEWSHOT_EXAMPLES_IN_CONTEXT = 0
MIN_MINIBATCH_SIZE = 50
AUTO_RUN_SETTINGS = {"light": {"n": 6, "val_size": 100}, "medium": {"n": 12, "val_size": 300},
                     "heavy": {"n": 18, "val_size": 1000}}


class MIPROv2(Teleprompter):
    fail_at_trial: Optional[int] = None  # a stand-in switch: raise inside this trial

    def __init__(self, metric: Callable[..., Any], prompt_model: Any = None, task_model: Any = None,
                 teacher_settings: Optional[Dict[str, Any]] = None, max_bootstrapped_demos: int = 4,
                 max_labeled_demos: int = 4, auto: Optional[str] = "light", num_candidates: Optional[int] = None,
                 num_threads: Optional[int] = None, max_errors: Optional[int] = None, seed: int = 9,
                 init_temperature: float = 1.0, verbose: bool = False, track_stats: bool = True,
                 log_dir: Optional[str] = None, metric_threshold: Optional[float] = None) -> None:
        # mipro_optimizer_v2.py:80-83: auto must be one of None, light, medium, heavy.
        if auto not in (None, "light", "medium", "heavy"):
            raise ValueError(f"Invalid value for auto: {auto}. Must be one of {{None, 'light', 'medium', 'heavy'}}.")
        self.auto = auto
        self.num_fewshot_candidates = num_candidates
        self.num_instruct_candidates = num_candidates
        self.num_candidates = num_candidates
        self.metric = metric
        self.init_temperature = init_temperature
        self.task_model = task_model if task_model else settings.get("lm")
        self.prompt_model = prompt_model if prompt_model else settings.get("lm")
        self.max_bootstrapped_demos = max_bootstrapped_demos
        self.max_labeled_demos = max_labeled_demos
        self.verbose = verbose
        self.track_stats = track_stats
        self.log_dir = log_dir
        self.teacher_settings = teacher_settings or {}
        self.prompt_model_total_calls = 0
        self.total_calls = 0
        self.num_threads = num_threads
        self.max_errors = max_errors
        self.metric_threshold = metric_threshold
        self.seed = seed
        self.rng: Optional[random.Random] = None
        # mipro_optimizer_v2.py:106-107: no LM configured, no MIPROv2.
        if not self.prompt_model or not self.task_model:
            raise ValueError("Either provide both prompt_model and task_model or set a default LM through dspy.configure(lm=...)")

    def compile(self, student: Module, *, trainset: List[Example], teacher: Optional[Module] = None,
                valset: Optional[List[Example]] = None, num_trials: Optional[int] = None,
                max_bootstrapped_demos: Optional[int] = None, max_labeled_demos: Optional[int] = None,
                seed: Optional[int] = None, minibatch: bool = True, minibatch_size: int = 35,
                minibatch_full_eval_steps: int = 5, program_aware_proposer: bool = True,
                data_aware_proposer: bool = True, view_data_batch_size: int = 10, tip_aware_proposer: bool = True,
                fewshot_aware_proposer: bool = True, requires_permission_to_run: Optional[bool] = None,
                provide_traceback: Optional[bool] = None) -> Module:
        # mipro_optimizer_v2.py:131-136: requires_permission_to_run is deprecated; True is an error.
        if requires_permission_to_run is False:
            logger.warning("'requires_permission_to_run' is deprecated and will be removed in a future version.")
        elif requires_permission_to_run is True:
            raise ValueError("User confirmation is removed from MIPROv2. Please remove the 'requires_permission_to_run' argument.")
        # :138-151: compile's max_errors / demo overrides win, and decide zero-shot.
        max_errors = self.max_errors if self.max_errors is not None else settings.get("max_errors")
        max_bootstrapped = max_bootstrapped_demos if max_bootstrapped_demos is not None else self.max_bootstrapped_demos
        max_labeled = max_labeled_demos if max_labeled_demos is not None else self.max_labeled_demos
        zeroshot_opt = max_bootstrapped == 0 and max_labeled == 0
        # :154-167: auto excludes num_candidates and num_trials; without auto both are needed.
        if self.auto is None and (self.num_candidates is not None and num_trials is None):
            raise ValueError("If auto is None, num_trials must also be provided.")
        if self.auto is None and (self.num_candidates is None or num_trials is None):
            raise ValueError("If auto is None, num_candidates must also be provided.")
        if self.auto is not None and (self.num_candidates is not None or num_trials is not None):
            raise ValueError("If auto is not None, num_candidates and num_trials cannot be set, since they would be "
                             "overridden by the auto settings.")
        seed = seed or self.seed
        self.rng = random.Random(seed)
        # :319-330: without a valset, the last 80 % of the trainset (at most 1,000).
        if not trainset:
            raise ValueError("Trainset cannot be empty.")
        if valset is None:
            valset_size = min(1000, max(1, int(len(trainset) * 0.80)))
            cutoff = len(trainset) - valset_size
            valset, trainset = trainset[cutoff:], trainset[:cutoff]
        num_instruct = self.num_instruct_candidates
        num_fewshot = self.num_fewshot_candidates
        if self.auto is not None:  # :304-317
            auto_settings = AUTO_RUN_SETTINGS[self.auto]
            valset = create_minibatch(valset, batch_size=auto_settings["val_size"], rng=self.rng)
            minibatch = len(valset) > MIN_MINIBATCH_SIZE
            num_instruct = auto_settings["n"] if zeroshot_opt else int(auto_settings["n"] * 0.5)
            num_fewshot = auto_settings["n"]
            num_vars = len(student.predictors()) * (1 if zeroshot_opt else 2)
            num_trials = int(max(2 * num_vars * math.log2(auto_settings["n"]), 1.5 * auto_settings["n"]))
        assert num_trials is not None
        if minibatch and minibatch_size > len(valset):  # :214-215
            raise ValueError(f"Minibatch size cannot exceed the size of the valset. Valset size: {len(valset)}.")
        program = student.deepcopy()
        evaluate = Evaluate(devset=valset, metric=self.metric, num_threads=self.num_threads,
                            max_errors=max_errors, provide_traceback=provide_traceback)  # :219-227
        zeroshot = max_bootstrapped == 0 and max_labeled == 0
        with context(lm=self.task_model):  # :229-241, :424-444
            demo_candidates = create_n_fewshot_demo_sets(
                program, num_fewshot, trainset,
                LABELED_FEWSHOT_EXAMPLES_IN_CONTEXT if zeroshot else max_labeled,
                BOOTSTRAPPED_FEWSHOT_EXAMPLES_IN_CONTEXT if zeroshot else max_bootstrapped,
                self.metric, max_errors, teacher, self.rng)
        instruction_candidates = self._propose_instructions(program, num_instruct)
        if zeroshot_opt:  # :256-258
            demo_candidates = None
        with context(lm=self.task_model):
            return self._optimize_prompt_parameters(program, instruction_candidates, demo_candidates, evaluate, valset,
                                                    num_trials, minibatch, minibatch_size, minibatch_full_eval_steps, seed)

    def _propose_instructions(self, program: Module, count: int) -> Dict[int, List[str]]:
        # mipro_optimizer_v2.py:471-505: N proposals per predictor; candidate 0 is the original instruction.
        proposer = GenerateModuleInstruction()
        candidates: Dict[int, List[str]] = {}
        for i, predictor in enumerate(program.predictors()):
            candidates[i] = [proposer(index=j, predictor=i).proposed_instruction for j in range(count)]
            candidates[i][0] = predictor.signature.instructions
        return candidates

    def _optimize_prompt_parameters(self, program: Module, instruction_candidates: Dict[int, List[str]],
                                    demo_candidates: Optional[Dict[int, List[List[Example]]]], evaluate: Evaluate,
                                    valset: List[Example], num_trials: int, minibatch: bool, minibatch_size: int,
                                    minibatch_full_eval_steps: int, seed: int) -> Module:
        if not OPTUNA_INSTALLED:  # mipro_optimizer_v2.py:520 → :28-38
            raise ImportError("MIPROv2 requires optional dependency 'optuna'. Install it with `pip install dspy[optuna]`.")
        # :530-535: the trial count with full evaluations; :538-546 trial 1, the default program in full.
        extra_full_eval = 1 if num_trials % minibatch_full_eval_steps != 0 else 0
        adjusted_num_trials = int((num_trials + num_trials // minibatch_full_eval_steps + 1 + extra_full_eval)
                                  if minibatch else num_trials)
        default_score = eval_candidate_program(len(valset), valset, program, evaluate, self.rng).score
        trial_logs: Dict[int, Dict[str, Any]] = {1: {"full_eval_score": default_score,
                                                     "total_eval_calls_so_far": len(valset),
                                                     "full_eval_program": program.deepcopy()}}
        best_score = default_score
        best_program = program.deepcopy()
        total_eval_calls = len(valset)
        score_data = [{"score": best_score, "program": program.deepcopy(), "full_eval": True}]
        param_score_dict: Dict[str, List[Any]] = defaultdict(list)
        fully_evaled_param_combos: Dict[str, Any] = {}
        study = _Study(seed)

        def objective(trial: _Trial) -> float:  # :557-656
            nonlocal best_program, best_score, total_eval_calls
            trial_num = trial.number + 1
            if self.fail_at_trial is not None and trial_num >= self.fail_at_trial:
                raise RuntimeError(f"stand-in failure in trial {trial_num}")
            trial_logs[trial_num] = {}
            candidate_program = program.deepcopy()
            chosen_params = []
            for i, predictor in enumerate(candidate_program.predictors()):  # :764-781
                instruction_idx = trial.suggest_categorical(f"{i}_predictor_instruction",
                                                            range(len(instruction_candidates[i])))
                predictor.signature = predictor.signature.with_instructions(instruction_candidates[i][instruction_idx])
                trial_logs[trial_num][f"{i}_predictor_instruction"] = instruction_idx
                chosen_params.append(f"Predictor {i}: Instruction {instruction_idx}")
                if demo_candidates:
                    demos_idx = trial.suggest_categorical(f"{i}_predictor_demos", range(len(demo_candidates[i])))
                    predictor.demos = demo_candidates[i][demos_idx]
                    trial_logs[trial_num][f"{i}_predictor_demos"] = demos_idx
                    chosen_params.append(f"Predictor {i}: Few-Shot Set {demos_idx}")
            batch_size = minibatch_size if minibatch else len(valset)
            score = eval_candidate_program(batch_size, valset, candidate_program, evaluate, self.rng).score
            total_eval_calls += batch_size
            if not minibatch and score > best_score:
                best_score, best_program = score, candidate_program.deepcopy()
            score_data.append({"score": score, "program": candidate_program, "full_eval": batch_size >= len(valset)})
            if minibatch:  # :708-711
                trial_logs[trial_num].update(mb_score=score, total_eval_calls_so_far=total_eval_calls,
                                             mb_program=candidate_program.deepcopy())
            else:  # :742-744
                trial_logs[trial_num].update(full_eval_score=score, total_eval_calls_so_far=total_eval_calls,
                                             full_eval_program=candidate_program.deepcopy())
            param_score_dict[",".join(chosen_params)].append((score, candidate_program, dict(trial.params)))
            if minibatch and ((trial_num % (minibatch_full_eval_steps + 1) == 0)  # :636-638
                              or (trial_num == (adjusted_num_trials - 1))):
                best_score, best_program, total_eval_calls = self._perform_full_evaluation(
                    trial_num, param_score_dict, fully_evaled_param_combos, evaluate, valset, trial_logs,
                    total_eval_calls, score_data, best_score, best_program, study)
            return score

        study.add_trial({"params": "default", "value": default_score})  # :661-671
        study.optimize(objective, n_trials=num_trials)
        if best_program is not None and self.track_stats:  # :675-688
            best_program.trial_logs = trial_logs
            best_program.score = best_score
            ranked = sorted(score_data, key=lambda x: x["score"], reverse=True)
            best_program.mb_candidate_programs = [s for s in ranked if not s["full_eval"]]
            best_program.candidate_programs = [s for s in ranked if s["full_eval"]]
        return best_program

    def _perform_full_evaluation(self, trial_num: int, param_score_dict: Dict[str, List[Any]],
                                 fully_evaled_param_combos: Dict[str, Any], evaluate: Evaluate,
                                 valset: List[Example], trial_logs: Dict[int, Dict[str, Any]], total_eval_calls: int,
                                 score_data: List[Any], best_score: float, best_program: Module,
                                 study: _Study) -> Any:
        # mipro_optimizer_v2.py:800-866: the best-averaging combination not yet fully evaluated (ValueError
        # when there is none), evaluated on the whole valset and logged under the next trial number.
        highest_mean_program, _, combo_key, params = get_program_with_highest_avg_score(
            param_score_dict, fully_evaled_param_combos)
        full_eval_score = eval_candidate_program(len(valset), valset, highest_mean_program, evaluate, self.rng).score
        score_data.append({"score": full_eval_score, "program": highest_mean_program, "full_eval": True})
        study.add_trial({"params": params, "value": full_eval_score})
        fully_evaled_param_combos[combo_key] = {"program": highest_mean_program, "score": full_eval_score}
        total_eval_calls += len(valset)
        trial_logs[trial_num + 1] = {"total_eval_calls_so_far": total_eval_calls,
                                     "full_eval_program": highest_mean_program, "full_eval_score": full_eval_score}
        if full_eval_score > best_score:
            best_score, best_program = full_eval_score, highest_mean_program.deepcopy()
        return best_score, best_program, total_eval_calls


def reset() -> None:
    """Back to DSPy 3.3.1 with an LM and no callbacks configured."""
    global OPTUNA_INSTALLED, STRAGGLER_TIMEOUT
    use_version("3.3.1")
    OPTUNA_INSTALLED = True
    STRAGGLER_TIMEOUT = 120.0
    settings.configure(callbacks=[], track_usage=False, lm=LM(), max_errors=10, usage_tracker=None)
    settings.set_overrides({})


use_version("3.3.1")
