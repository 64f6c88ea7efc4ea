"""A STAND-IN for the parts of DSPy 3.3 that ``optruns.dspy`` meets. It is not DSPy.

DSPy cannot be installed where these tests run, so this module makes the calls DSPy 3.3 makes, in
the same order and with the same arguments, as its source and documentation show:

* ``with_callbacks``: ``call_id = uuid4().hex``; ``inputs = inspect.getcallargs(fn, instance, ...)``
  without ``self``; every callback's start handler (errors only logged), then ``ACTIVE_CALL_ID`` set,
  the call, and every end handler with ``(call_id, outputs, exception)``. Handlers are chosen by
  the instance: ``Evaluate`` → ``on_evaluate_*``, everything else → ``on_module_*``.
  DSPy 3.3 has no compile events; ``COMPILE_EVENTS = True`` switches on the ``on_compile_start`` /
  ``on_compile_end`` pair around every ``Teleprompter.compile`` that later DSPy adds (PR #10120).
* ``settings.context(**overrides)``: thread-local overrides that ``ParallelExecutor`` copies into its
  worker threads; ``ParallelExecutor`` re-submits stragglers, so one example may be run twice.
* ``Evaluate.__call__(program, metric=None, devset=None, num_threads=None, display_progress=None,
  display_table=None, callback_metadata=None, ...)``: ``process_item`` runs the program then
  ``metric(example, prediction)``; a failed item becomes ``(Prediction(), failure_score)``; the
  answer is ``EvaluationResult(score=round(100 * ncorrect / ntotal, 2), results=[(example,
  prediction, score), ...])`` — a percentage.
* ``MIPROv2.compile``: bootstrap demo sets (nested ``BootstrapFewShot.compile`` calls whose metric
  gets a ``trace``), propose instructions (modules from ``dspy.propose``), evaluate the default
  program fully (trial 1, ``metric_key="eval_full"``), then ``num_trials`` minibatch trials
  (``"eval_minibatch"``) numbered from 2, a full evaluation of the best-averaging candidate after
  every ``minibatch_full_eval_steps`` trials and at the end, each logged under the next trial
  number in ``trial_logs`` (``"0_predictor_instruction"``, ``"0_predictor_demos"``, ``mb_score``,
  ``full_eval_score``), which the returned program carries with its ``score``.

Its "LM" is arithmetic: an answer is right when the program's quality (instruction and demos) beats
the example's difficulty, so better candidates score better and minibatch scores are noisy.
"""

from __future__ import annotations

import contextvars
import copy
import hashlib
import inspect
import logging
import math
import random
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Optional

__version__ = "3.3.0-standin"
logger = logging.getLogger("dspy_standin")
logger.addHandler(logging.NullHandler())  # DSPy logs item errors; the tests need not show them
logger.propagate = False

COMPILE_EVENTS = False  # DSPy 3.3: no compile events
ACTIVE_CALL_ID: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("active_call_id", default=None)


# settings ----------------------------------------------------------------------------------------

class _Settings:
    def __init__(self) -> None:
        self._main: Dict[str, Any] = {"lm": None, "callbacks": [], "num_threads": 8, "max_errors": 1000,
                                      "track_usage": False}
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


def _handler(callback: Any, instance: Any, end: bool) -> Callable[..., Any]:
    suffix = "end" if end else "start"
    if isinstance(instance, Evaluate):
        return getattr(callback, f"on_evaluate_{suffix}")
    if isinstance(instance, Teleprompter):
        return getattr(callback, f"on_compile_{suffix}")
    return getattr(callback, f"on_module_{suffix}")


def with_callbacks(fn: Callable[..., Any]) -> Callable[..., Any]:
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
        except Exception as e:
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
    return wrapper


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

    def keys(self) -> List[str]:
        return list(self._store)

    def items(self) -> List[Any]:
        return list(self._store.items())

    def with_inputs(self, *keys: str) -> "Example":
        copied = Example(self)
        copied._input_keys = set(keys)
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


# Instruction quality, as the arithmetic "LM" sees it (deterministic in the text).
def _quality_of(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _difficulty(example: Example) -> float:
    return int(hashlib.sha256(str(example.toDict()).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


class Module:
    callbacks: List[Any] = []

    @with_callbacks
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    def named_predictors(self) -> List[Any]:
        return [(name, value) for name, value in vars(self).items() if isinstance(value, Predict)]

    def predictors(self) -> List["Predict"]:
        return [p for _, p in self.named_predictors()]

    def deepcopy(self) -> "Module":
        return copy.deepcopy(self)

    def dump_state(self) -> Dict[str, Any]:
        return {name: {"signature": {"instructions": p.signature.instructions},
                       "demos": [d.toDict() for d in p.demos]} for name, p in self.named_predictors()}


class Predict(Module):
    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        self.demos: List[Example] = []

    def forward(self, **kwargs: Any) -> Prediction:
        question = kwargs["question"]
        if "[fail]" in question:
            raise RuntimeError(f"the LM refused: {question}")
        quality = 0.25 + 0.5 * _quality_of(self.signature.instructions) + 0.03 * len(self.demos)
        expected = kwargs.get("_expected", "")
        right = quality > kwargs.get("_difficulty", 0.5)
        prediction = Prediction(answer=expected if right else f"not {expected}")
        if settings.get("track_usage"):
            prediction.set_lm_usage({"standin/lm": {"prompt_tokens": 120 + 40 * len(self.demos), "completion_tokens": 9}})
        return prediction


class QA(Module):
    """The program under optimization: one predictor."""

    def __init__(self) -> None:
        self.generate = Predict(Signature("question -> answer", "Answer the question."))

    def forward(self, question: str) -> Prediction:
        example = _EXAMPLES_BY_QUESTION.get(question)
        return self.generate(question=question, _expected=example.answer if example is not None else "",
                             _difficulty=_difficulty(example) if example is not None else 0.5)


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

class ParallelExecutor:
    def __init__(self, num_threads: Optional[int] = None, max_errors: Optional[int] = None,
                 straggler_reruns: int = 0) -> None:
        self.num_threads = num_threads or settings.get("num_threads")
        self.max_errors = max_errors if max_errors is not None else settings.get("max_errors")
        self.straggler_reruns = straggler_reruns
        self.error_count = 0
        self.lock = threading.Lock()

    def execute(self, function: Callable[[Any], Any], data: List[Any]) -> List[Any]:
        results: List[Any] = [None] * len(data)
        parent_overrides = dict(settings.overrides())

        def worker(index: int, item: Any) -> Any:
            original = settings.overrides()
            settings.set_overrides({**original, **parent_overrides})
            try:
                return index, function(item)
            except Exception as e:  # noqa: BLE001 - as DSPy: an item's error is counted and logged
                with self.lock:
                    self.error_count += 1
                logger.error(f"Error for {item}: {e}")
                return index, None
            finally:
                settings.set_overrides(original)

        with ThreadPoolExecutor(max_workers=self.num_threads) as executor:
            futures = {executor.submit(worker, i, item) for i, item in enumerate(data)}
            # DSPy re-submits the last stragglers once; the first answer wins, the other is discarded.
            futures |= {executor.submit(worker, i, data[i]) for i in range(min(self.straggler_reruns, len(data)))}
            pending = futures
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, outcome = future.result()
                    if results[index] is None:
                        results[index] = outcome
        if self.error_count >= self.max_errors:
            raise Exception("Execution cancelled due to errors or interruption.")
        return results


_UNSET = object()


class Evaluate:
    straggler_reruns = 2  # how many items this stand-in runs twice, as DSPy's straggler re-submission does

    def __init__(self, *, devset: List[Example], metric: Optional[Callable[..., Any]] = None,
                 num_threads: Optional[int] = None, display_progress: bool = False, display_table: Any = False,
                 max_errors: Optional[int] = None, provide_traceback: Optional[bool] = None,
                 failure_score: float = 0.0, **kwargs: Any) -> None:
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
                 save_as_json: Optional[str] = None, timeout: Any = _UNSET,
                 straggler_limit: Optional[int] = None) -> EvaluationResult:
        metric = metric if metric is not None else self.metric
        devset = devset if devset is not None else self.devset
        num_threads = num_threads if num_threads is not None else self.num_threads
        executor = ParallelExecutor(num_threads=num_threads, max_errors=self.max_errors,
                                    straggler_reruns=self.straggler_reruns)

        def process_item(example: Example) -> Any:
            prediction = program(**example.inputs().toDict())
            score = metric(example, prediction)
            return prediction, score

        results = executor.execute(process_item, devset)
        assert len(devset) == len(results)
        results = [((Prediction(), self.failure_score) if r is None else r) for r in results]
        results = [(example, prediction, score) for example, (prediction, score) in zip(devset, results)]
        ncorrect, ntotal = sum(score for *_, score in results), len(devset)
        return EvaluationResult(score=round(100 * ncorrect / ntotal, 2), results=results)


# optimizers --------------------------------------------------------------------------------------

class _TeleprompterMeta(type):
    # COMPILE_EVENTS on: each concrete compile is wrapped like DSPy's later compile events.
    def __new__(mcs, name, bases, namespace):  # type: ignore[no-untyped-def]
        if "compile" in namespace:
            plain = namespace["compile"]
            wrapped = with_callbacks(plain)

            def compile(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                if COMPILE_EVENTS:
                    return wrapped(self, *args, **kwargs)
                return plain(self, *args, **kwargs)

            compile.__signature__ = inspect.signature(plain)  # type: ignore[attr-defined]
            compile.__wrapped__ = plain  # type: ignore[attr-defined]
            namespace["compile"] = compile
        return super().__new__(mcs, name, bases, namespace)


class Teleprompter(metaclass=_TeleprompterMeta):
    def get_params(self) -> Dict[str, Any]:
        return self.__dict__


class BootstrapFewShot(Teleprompter):
    def __init__(self, metric: Optional[Callable[..., Any]] = None, metric_threshold: Optional[float] = None,
                 teacher_settings: Optional[Dict[str, Any]] = None, max_bootstrapped_demos: int = 4,
                 max_labeled_demos: int = 16, max_rounds: int = 1, max_errors: Optional[int] = None) -> None:
        self.metric = metric
        self.max_bootstrapped_demos = max_bootstrapped_demos
        self.max_labeled_demos = max_labeled_demos
        self.max_rounds = max_rounds

    def compile(self, student: Module, *, teacher: Optional[Module] = None, trainset: List[Example]) -> Module:
        program = student.deepcopy()
        teacher = teacher or student
        demos = []
        for example in trainset:
            if len(demos) >= self.max_bootstrapped_demos:
                break
            try:
                prediction = teacher(**example.inputs().toDict())
            except Exception:  # noqa: BLE001
                continue
            trace = [(teacher.generate, example.inputs().toDict(), prediction)]
            if self.metric is None or self.metric(example, prediction, trace):
                demos.append(example)
        for predictor in program.predictors():
            predictor.demos = list(demos)
        return program


def create_minibatch(trainset: List[Example], batch_size: int = 50, rng: Optional[random.Random] = None) -> List[Example]:
    batch_size = min(batch_size, len(trainset))
    rng = rng or random
    return [trainset[i] for i in rng.sample(range(len(trainset)), batch_size)]


def eval_candidate_program(batch_size: int, trainset: List[Example], candidate_program: Module,
                           evaluate: Evaluate, rng: Optional[random.Random] = None) -> Any:
    try:
        if batch_size >= len(trainset):
            return evaluate(candidate_program, devset=trainset, callback_metadata={"metric_key": "eval_full"})
        return evaluate(candidate_program, devset=create_minibatch(trainset, batch_size, rng),
                        callback_metadata={"metric_key": "eval_minibatch"})
    except Exception:  # noqa: BLE001 - as DSPy
        logger.error("An exception occurred during evaluation", exc_info=True)
        return Prediction(score=0.0, results=[])


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


AUTO_RUN_SETTINGS = {"light": {"n": 6, "val_size": 100}, "medium": {"n": 12, "val_size": 300},
                     "heavy": {"n": 18, "val_size": 1000}}
MIN_MINIBATCH_SIZE = 50


class MIPROv2(Teleprompter):
    fail_at_trial: Optional[int] = None  # a stand-in switch: raise inside this trial

    def __init__(self, metric: Callable[..., Any], prompt_model: Any = None, task_model: Any = None,
                 teacher_settings: Optional[Dict[str, Any]] = None, max_bootstrapped_demos: int = 4,
                 max_labeled_demos: int = 4, auto: Optional[str] = "light", num_candidates: Optional[int] = None,
                 num_threads: Optional[int] = None, max_errors: Optional[int] = None, seed: int = 9,
                 init_temperature: float = 0.5, verbose: bool = False, track_stats: bool = True,
                 log_dir: Optional[str] = None, metric_threshold: Optional[float] = None) -> None:
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

    def compile(self, student: Module, *, trainset: List[Example], teacher: Optional[Module] = None,
                valset: Optional[List[Example]] = None, num_trials: Optional[int] = None,
                max_bootstrapped_demos: Optional[int] = None, max_labeled_demos: Optional[int] = None,
                seed: Optional[int] = None, minibatch: bool = True, minibatch_size: int = 35,
                minibatch_full_eval_steps: int = 5, program_aware_proposer: bool = True,
                data_aware_proposer: bool = True, view_data_batch_size: int = 10, tip_aware_proposer: bool = True,
                fewshot_aware_proposer: bool = True, requires_permission_to_run: bool = True,
                provide_traceback: Optional[bool] = None) -> Module:
        zeroshot_opt = self.max_bootstrapped_demos == 0 and self.max_labeled_demos == 0
        if self.auto is None and (self.num_candidates is None or num_trials is None):
            raise ValueError("If auto is None, num_candidates must also be provided.")
        seed = seed or self.seed
        self.rng = random.Random(seed)
        if max_bootstrapped_demos is not None:
            self.max_bootstrapped_demos = max_bootstrapped_demos
        if max_labeled_demos is not None:
            self.max_labeled_demos = max_labeled_demos
        if valset is None:
            valset_size = min(1000, max(1, int(len(trainset) * 0.80)))
            cutoff = len(trainset) - valset_size
            valset, trainset = trainset[cutoff:], trainset[:cutoff]
        if self.auto is not None:
            auto_settings = AUTO_RUN_SETTINGS[self.auto]
            valset = create_minibatch(valset, batch_size=auto_settings["val_size"], rng=self.rng)
            minibatch = len(valset) > MIN_MINIBATCH_SIZE
            self.num_instruct_candidates = auto_settings["n"] if zeroshot_opt else int(auto_settings["n"] * 0.5)
            self.num_fewshot_candidates = auto_settings["n"]
            num_vars = len(student.predictors()) * (1 if zeroshot_opt else 2)
            num_trials = int(max(2 * num_vars * math.log2(auto_settings["n"]), 1.5 * auto_settings["n"]))
        assert num_trials is not None
        program = student.deepcopy()
        evaluate = Evaluate(devset=valset, metric=self.metric, num_threads=self.num_threads,
                            max_errors=self.max_errors, provide_traceback=provide_traceback)
        demo_candidates = self._bootstrap_fewshot_examples(program, trainset, seed, teacher)
        instruction_candidates = self._propose_instructions(program)
        if zeroshot_opt:
            demo_candidates = None
        return self._optimize_prompt_parameters(program, instruction_candidates, demo_candidates, evaluate, valset,
                                                num_trials, minibatch, minibatch_size, minibatch_full_eval_steps, seed)

    def _bootstrap_fewshot_examples(self, program: Module, trainset: List[Example], seed: int,
                                    teacher: Optional[Module]) -> Dict[int, List[List[Example]]]:
        # create_n_fewshot_demo_sets: seed -3 zero-shot, -2 labeled only, then bootstrapped sets.
        demo_candidates: Dict[int, List[List[Example]]] = {i: [] for i in range(len(program.predictors()))}
        for set_seed in range(-3, (self.num_fewshot_candidates or 6) - 3):
            if set_seed == -3:
                sets = [[] for _ in program.predictors()]
            elif set_seed == -2:
                sets = [list(trainset[: self.max_labeled_demos]) for _ in program.predictors()]
            else:
                shuffled = list(trainset)
                random.Random(set_seed).shuffle(shuffled)
                size = random.Random(set_seed).randint(1, max(1, self.max_bootstrapped_demos))
                compiled = BootstrapFewShot(metric=self.metric, max_bootstrapped_demos=size,
                                            max_labeled_demos=self.max_labeled_demos).compile(
                    program, teacher=teacher, trainset=shuffled)
                sets = [p.demos for p in compiled.predictors()]
            for i, demos in enumerate(sets):
                demo_candidates[i].append(demos)
        return demo_candidates

    def _propose_instructions(self, program: Module) -> Dict[int, List[str]]:
        proposer = GenerateModuleInstruction()
        candidates: Dict[int, List[str]] = {}
        for i, predictor in enumerate(program.predictors()):
            candidates[i] = [proposer(index=j, predictor=i).proposed_instruction
                             for j in range(self.num_instruct_candidates or 3)]
            candidates[i][0] = predictor.signature.instructions
        return candidates

    def _optimize_prompt_parameters(self, program: Module, instruction_candidates: Dict[int, List[str]],
                                    demo_candidates: Optional[Dict[int, List[List[Example]]]], evaluate: Evaluate,
                                    valset: List[Example], num_trials: int, minibatch: bool, minibatch_size: int,
                                    minibatch_full_eval_steps: int, seed: int) -> Module:
        run_additional_full_eval_at_end = 1 if num_trials % minibatch_full_eval_steps != 0 else 0
        adjusted_num_trials = int((num_trials + num_trials // minibatch_full_eval_steps + 1
                                   + run_additional_full_eval_at_end) if minibatch else num_trials)
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

        def objective(trial: _Trial) -> float:
            nonlocal best_program, best_score, total_eval_calls
            trial_num = trial.number + 1
            if self.fail_at_trial is not None and trial_num >= self.fail_at_trial:
                raise RuntimeError(f"stand-in failure in trial {trial_num}")
            trial_logs[trial_num] = {}
            candidate_program = program.deepcopy()
            chosen_params = []
            for i, predictor in enumerate(candidate_program.predictors()):
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
            if minibatch:
                trial_logs[trial_num].update(mb_score=score, total_eval_calls_so_far=total_eval_calls,
                                             mb_program=candidate_program.deepcopy())
            else:
                trial_logs[trial_num].update(full_eval_score=score, total_eval_calls_so_far=total_eval_calls,
                                             full_eval_program=candidate_program.deepcopy())
            param_score_dict[",".join(chosen_params)].append((score, candidate_program, dict(trial.params)))
            if minibatch and ((trial_num % (minibatch_full_eval_steps + 1) == 0)
                              or (trial_num == (adjusted_num_trials - 1))):
                best_score, best_program, total_eval_calls = self._perform_full_evaluation(
                    trial_num, param_score_dict, fully_evaled_param_combos, evaluate, valset, trial_logs,
                    total_eval_calls, score_data, best_score, best_program, study)
            return score

        study.add_trial({"params": "default", "value": default_score})
        study.optimize(objective, n_trials=num_trials)
        if best_program is not None and self.track_stats:
            best_program.trial_logs = trial_logs
            best_program.score = best_score
        return best_program

    def _perform_full_evaluation(self, trial_num: int, param_score_dict: Dict[str, List[Any]],
                                 fully_evaled_param_combos: Dict[str, Any], evaluate: Evaluate,
                                 valset: List[Example], trial_logs: Dict[int, Dict[str, Any]], total_eval_calls: int,
                                 score_data: List[Any], best_score: float, best_program: Module,
                                 study: _Study) -> Any:
        # get_program_with_highest_avg_score: the best mean among combos not yet fully evaluated.
        ranked = sorted(((sum(s for s, *_ in values) / len(values), key, values[0][1])
                         for key, values in param_score_dict.items() if key not in fully_evaled_param_combos),
                        key=lambda r: r[0], reverse=True)
        if ranked:
            _, combo_key, highest_mean_program = ranked[0]
        else:
            combo_key, highest_mean_program = next(iter(param_score_dict)), next(iter(param_score_dict.values()))[0][1]
        full_eval_score = eval_candidate_program(len(valset), valset, highest_mean_program, evaluate, self.rng).score
        score_data.append({"score": full_eval_score, "program": highest_mean_program, "full_eval": True})
        study.add_trial({"params": combo_key, "value": full_eval_score})
        fully_evaled_param_combos[combo_key] = {"program": highest_mean_program, "score": full_eval_score}
        total_eval_calls += len(valset)
        trial_logs[trial_num + 1] = {"total_eval_calls_so_far": total_eval_calls,
                                     "full_eval_program": highest_mean_program, "full_eval_score": full_eval_score}
        if full_eval_score > best_score:
            best_score, best_program = full_eval_score, highest_mean_program.deepcopy()
        return best_score, best_program, total_eval_calls


def reset() -> None:
    """Back to DSPy 3.3's behaviour with no callbacks configured."""
    global COMPILE_EVENTS
    COMPILE_EVENTS = False
    settings.configure(callbacks=[], track_usage=False)
    settings.set_overrides({})
    time.sleep(0)
