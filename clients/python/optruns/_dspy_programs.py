"""What the DSPy adapter reads from DSPy objects: programs (predictors, instructions, demos),
examples, the optimizer's configuration and trial count, MIPROv2's ``trial_logs`` and LM history.
Duck-typed throughout, so nothing here imports DSPy."""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from . import _values as v

_AUTO_RUN_SETTINGS = {"light": (6, 100), "medium": (12, 300), "heavy": (18, 1000)}  # MIPROv2's (n, val_size)
_PREDICTOR_KEY = re.compile(r"^(\d+)_predictor_(instruction|demos)$")
_COMPILE_DATA_ARGS = frozenset({"student", "program", "trainset", "valset", "teacher", "devset", "testset"})


# Programs ----------------------------------------------------------------------------------------

def named_predictors(program: Any) -> List[Tuple[str, Any]]:
    try:
        if hasattr(program, "named_predictors"):
            return list(program.named_predictors())
        if hasattr(program, "predictors"):
            return [(str(i), p) for i, p in enumerate(program.predictors())]
    except Exception:  # noqa: BLE001
        pass
    return []


def instructions(predictor: Any) -> Optional[str]:
    signature = getattr(predictor, "signature", None)
    if signature is None and hasattr(predictor, "predict"):
        signature = getattr(predictor.predict, "signature", None)
    text = getattr(signature, "instructions", None)
    return text if isinstance(text, str) else None


def describe_program(program: Any) -> Optional[Dict[str, Any]]:
    """Per predictor (by index, as MIPROv2 numbers them): its name, instructions and demo count."""
    predictors = named_predictors(program)
    if not predictors:
        return None
    return {"predictors": {
        str(i): {"name": name, "instructions": instructions(p), "demos": len(getattr(p, "demos", None) or [])}
        for i, (name, p) in enumerate(predictors)
    }}


def signature(program: Any) -> Tuple[Any, ...]:
    """What tells two candidate programs apart: each predictor's instructions and demos."""
    parts = []
    for _, predictor in named_predictors(program):
        demos = getattr(predictor, "demos", None) or []
        digest = hashlib.sha1(json.dumps(v.jsonable(demos), sort_keys=True, default=str).encode()).hexdigest()
        parts.append((instructions(predictor), len(demos), digest))
    return tuple(parts)


def program_state(program: Any) -> Any:
    if program is None:
        return None
    dump = getattr(program, "dump_state", None)
    if callable(dump):
        try:
            return v.jsonable(dump())
        except Exception:  # noqa: BLE001
            pass
    return describe_program(program)


# Examples ----------------------------------------------------------------------------------------

def example_id(example: Any) -> str:
    """A stable id for an example: a hash of its fields (inputs and labels), ``ex-`` + 16 hex digits."""
    try:
        content = example.toDict() if hasattr(example, "toDict") else dict(example)
    except Exception:  # noqa: BLE001
        content = str(example)
    digest = hashlib.sha256(json.dumps(v.jsonable(content), sort_keys=True, default=str).encode()).hexdigest()
    return "ex-" + digest[:16]


def example_part(example: Any, part: str) -> Any:
    method = getattr(example, part, None)
    if callable(method):
        try:
            return v.jsonable(method())
        except Exception:  # noqa: BLE001 - e.g. an Example without with_inputs(): its fields as a whole
            pass
    return v.jsonable(example) if part == "inputs" else None


def inputs_key(fields: Any) -> Optional[str]:
    """The same key for an example's inputs and for the keyword arguments a program was called with
    (``Evaluate`` calls ``program(**example.inputs())``), so a program call finds its example."""
    try:
        return json.dumps(v.jsonable(dict(fields)), sort_keys=True, default=str)
    except Exception:  # noqa: BLE001
        return None


def example_inputs_key(example: Any) -> Optional[str]:
    method = getattr(example, "inputs", None)
    try:
        return inputs_key(method() if callable(method) else example)
    except Exception:  # noqa: BLE001 - no inputs marked: its fields as a whole
        return inputs_key(example)


def is_empty(prediction: Any) -> bool:
    if prediction is None:
        return True
    keys = getattr(prediction, "keys", None)
    try:
        return callable(keys) and len(list(keys())) == 0
    except Exception:  # noqa: BLE001
        return False


def prediction_tokens(prediction: Any) -> Tuple[Optional[int], Optional[int]]:
    """Prompt and completion tokens from ``Prediction.get_lm_usage()``, which DSPy fills when
    ``dspy.configure(track_usage=True)``; cached LM calls count no tokens there."""
    getter = getattr(prediction, "get_lm_usage", None)
    if not callable(getter):
        return None, None
    try:
        usage = getter() or {}
    except Exception:  # noqa: BLE001
        return None, None
    prompt = completion = 0
    seen = False
    for per_model in usage.values() if isinstance(usage, dict) else []:
        if isinstance(per_model, dict):
            seen = True
            prompt += int(per_model.get("prompt_tokens") or 0)
            completion += int(per_model.get("completion_tokens") or 0)
    return (prompt, completion) if seen else (None, None)


def history_entry(lm: Any, outputs: Any) -> Optional[Dict[str, Any]]:
    """The LM history entry of the call that returned ``outputs``: DSPy's ``BaseLM`` appends one per
    call holding the very list the call returns, the provider's ``usage`` and ``cost``."""
    history = getattr(lm, "history", None)
    if outputs is None or not isinstance(history, list):
        return None
    for entry in reversed(history[-256:]):
        if isinstance(entry, dict) and entry.get("outputs") is outputs:
            return entry
    return None


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


def model_name(lm: Any) -> Optional[str]:
    name = getattr(lm, "model", None) or getattr(lm, "model_name", None)
    return str(name)[:200] if name else None


def compile_arguments(inputs: Dict[str, Any]) -> Dict[str, Any]:
    """The compile's arguments by name, those DSPy keeps under ``"kwargs"`` (a ``**kwargs`` compile) included."""
    flat = {k: val for k, val in inputs.items() if k != "kwargs"}
    extra = inputs.get("kwargs")
    if isinstance(extra, dict):
        for key, value in extra.items():
            flat.setdefault(key, value)
    return flat


def optimizer_config(optimizer: Any, inputs: Dict[str, Any], lm: Any) -> Tuple[Dict[str, Any], Optional[str], Optional[str]]:
    """``get_params()`` (DSPy's Teleprompter API; the instance's fields otherwise) plus the compile's
    own arguments, as plain JSON; the task and prompt models as names (``lm``: DSPy's configured one)."""
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
    for key, value in compile_arguments(inputs).items():
        if key in _COMPILE_DATA_ARGS or (value is None and key in config):
            continue
        ok, plain = _plain(value)
        if ok:
            config[key] = plain
    task = model_name(getattr(optimizer, "task_model", None) or lm)
    prompt = model_name(getattr(optimizer, "prompt_model", None) or lm)
    return config, task, prompt


def compile_metadata(optimizer: Any, inputs: Dict[str, Any], student: Any, version: Optional[str]) -> Dict[str, Any]:
    meta: Dict[str, Any] = {"optimizer": f"{type(optimizer).__module__}.{type(optimizer).__qualname__}"}
    if version:
        meta["version"] = str(version)
    for key in ("trainset", "valset"):
        if isinstance(inputs.get(key), (list, tuple)):
            meta[f"{key}Size"] = len(inputs[key])
    predictors = named_predictors(student)
    if predictors:
        meta["predictors"] = [name for name, _ in predictors]
    return meta


def estimate_iterations(optimizer: Any, inputs: Dict[str, Any], config: Dict[str, Any], student: Any) -> Optional[int]:
    """MIPROv2's trial count, including full evaluations and the baseline (its ``adjusted_num_trials``)."""
    if type(optimizer).__name__ != "MIPROv2":
        return None
    try:
        args = compile_arguments(inputs)
        num_trials = args.get("num_trials")
        minibatch = bool(args.get("minibatch", True))
        steps = int(args.get("minibatch_full_eval_steps") or 5)
        auto = config.get("auto")
        if auto in _AUTO_RUN_SETTINGS:
            n, val_size = _AUTO_RUN_SETTINGS[auto]
            # Zero-shot as MIPROv2 decides it since DSPy 3.1: compile's overrides win over the optimizer's.
            bootstrapped = args.get("max_bootstrapped_demos")
            labeled = args.get("max_labeled_demos")
            if bootstrapped is None:
                bootstrapped = getattr(optimizer, "max_bootstrapped_demos", 1)
            if labeled is None:
                labeled = getattr(optimizer, "max_labeled_demos", 1)
            zeroshot = bootstrapped == 0 and labeled == 0
            variables = len(named_predictors(student)) * (1 if zeroshot else 2)
            num_trials = int(max(2 * variables * math.log2(n), 1.5 * n))
            valset = args.get("valset")
            trainset = args.get("trainset") or []
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


def bind_compile(optimizer: Any, args: Iterable[Any], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The compile's arguments as DSPy's callback wrapper passes them (``inspect.getcallargs`` of the
    undecorated method without ``self``): defaults included, ``**kwargs`` kept under their own name."""
    function: Callable[..., Any] = inspect.unwrap(getattr(type(optimizer), "compile", optimizer.compile))
    try:
        inputs = inspect.getcallargs(function, optimizer, *args, **kwargs)
        inputs.pop("self", None)
        return inputs
    except TypeError:
        return dict(kwargs)


# MIPROv2's trial log -------------------------------------------------------------------------------

def trial_params(entry: Any) -> Dict[str, Dict[str, int]]:
    """Per predictor, the instruction and demo-set index a ``trial_logs`` entry chose."""
    predictors: Dict[str, Dict[str, int]] = {}
    if isinstance(entry, dict):
        for key, value in entry.items():
            match = _PREDICTOR_KEY.match(str(key))
            if match and isinstance(value, (int, float)) and not isinstance(value, bool):
                predictors.setdefault(match.group(1), {})[match.group(2)] = int(value)
    return predictors


def candidates_from_trials(trial_logs: Dict[Any, Any]) -> List[Dict[str, Any]]:
    """Every instruction text and demo set MIPROv2 tried, per predictor, under the index ``trial_logs``
    names it by: read from the program each trial evaluated (``mb_program`` / ``full_eval_program``).
    Trial 1, the default program, holds instruction 0 (the original)."""
    found: Dict[Tuple[str, str, int], Dict[str, Any]] = {}

    def add(predictor: str, kind: str, index: int, content: Dict[str, Any]) -> None:
        found.setdefault((predictor, kind, index), {"predictor": predictor, "kind": kind, "index": index, **content})

    for trial in sorted(trial_logs, key=lambda t: int(t)):
        entry = trial_logs[trial]
        if not isinstance(entry, dict):
            continue
        program = entry.get("mb_program", entry.get("full_eval_program"))
        predictors = named_predictors(program)
        chosen = trial_params(entry)
        if not chosen and int(trial) == 1:
            chosen = {str(i): {"instruction": 0} for i in range(len(predictors))}
        for key, indices in chosen.items():
            position = int(key)
            if position >= len(predictors):
                continue
            predictor = predictors[position][1]
            if "instruction" in indices and instructions(predictor) is not None:
                add(key, "instruction", indices["instruction"], {"text": instructions(predictor)})
            if "demos" in indices:
                add(key, "demos", indices["demos"], {"demos": v.jsonable(list(getattr(predictor, "demos", None) or []))})
    return [found[k] for k in sorted(found, key=lambda k: (int(k[0]), k[1], k[2]))]
