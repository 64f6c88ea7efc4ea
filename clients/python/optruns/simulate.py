"""Plays MIPROv2-shaped optimization runs against a gateway, through the client, so the system can be
seen (and loaded) without DSPy or an LM.

    python -m optruns.simulate --runs 8 --mode light --workers 4 --speed 10
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import Admin, OptRunsError, Tracker
from .client import Run

MODES = {
    # MIPROv2's auto settings: candidates n, validation-set size; a full evaluation covers the whole set.
    "light": {"n": 6, "val_size": 100},
    "medium": {"n": 12, "val_size": 300},
    "heavy": {"n": 18, "val_size": 1000},
}
MINIBATCH_SIZE = 35
FULL_EVAL_STEPS = 5
TASK_MODELS = {  # USD per million prompt / completion tokens
    "gpt-4o-mini": (0.15, 0.60),
    "llama-3.1-8b-instruct": (0.05, 0.08),
    "claude-3-5-haiku": (0.80, 4.00),
}
PROMPT_MODELS = ["gpt-4o", "claude-3-5-sonnet"]
TASKS = [
    ("hotpotqa-dev", "MultiHopQA", "exact_match"),
    ("gsm8k-dev", "CoT", "answer_match"),
    ("hover-dev", "ClaimVerifier", "recall@5"),
    ("squad-dev", "RAG", "semantic_f1"),
]
ERRORS = [
    "TimeoutError: LM call exceeded 30 s",
    "AdapterParseError: could not parse the 'answer' field from the LM's response",
    "RateLimitError: 429 Too Many Requests from the provider",
    "ContextWindowExceededError: prompt of 131,412 tokens exceeds the model's limit",
]
TIPS = ["be concise", "think step by step", "cite the evidence", "double-check arithmetic", "answer in one phrase",
        "consider each hop", "restate the question first"]


class Cancelled(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) reached a run's thread: the run's context manager cancels the run."""


class Board:
    """A progress line per run: redrawn in place on a terminal, printed on change otherwise."""

    def __init__(self, total: int, stream: Any = sys.stdout, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.lines: List[str] = [f"run {i + 1:>2}/{total}  waiting for a worker" for i in range(total)]
        self._printed: List[Tuple[str, float]] = [("", 0.0)] * total
        self._lock = threading.Lock()
        self._drawn = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        if not self.quiet:
            self._thread.start()

    def set(self, index: int, line: str, *, important: bool = False) -> None:
        with self._lock:
            self.lines[index] = line
            if self.tty or self.quiet:
                return
            # Without a terminal: a line per change of phase or trial, at most every 2 s per run.
            last, when = self._printed[index]
            if line != last and (important or time.monotonic() - when > 2.0):
                self._printed[index] = (line, time.monotonic())
                print(line, file=self.stream, flush=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.tty and not self.quiet:
            self._draw()

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            if self.tty:
                self._draw()

    def _draw(self) -> None:
        with self._lock:
            lines = list(self.lines)
        width = 200
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns - 1
        except (OSError, ValueError, AttributeError):
            pass
        out = []
        if self._drawn:
            out.append(f"\x1b[{self._drawn}F")
        for line in lines:
            out.append("\x1b[2K" + line[:width] + "\n")
        self.stream.write("".join(out))
        self.stream.flush()
        self._drawn = len(lines)


class Simulation:
    """One MIPROv2-shaped run: bootstrap and proposal phases, then trials at MIPROv2's cadence."""

    def __init__(self, index: int, total: int, args: argparse.Namespace, tracker: Tracker, board: Board,
                 stop: threading.Event) -> None:
        self.index = index
        self.total = total
        self.args = args
        self.tracker = tracker
        self.board = board
        self.stop = stop
        self.rng = random.Random(args.seed * 1000 + index if args.seed is not None else None)
        self.mode = args.mode if args.mode != "mixed" else self.rng.choice(["light", "light", "medium", "heavy"])
        settings = MODES[self.mode]
        self.n = settings["n"]
        self.val_size = settings["val_size"]
        self.predictors = self.rng.choice([1, 1, 2, 2, 3])
        variables = 2 * self.predictors
        self.num_trials = int(max(2 * variables * math.log2(self.n), 1.5 * self.n))
        extra = 1 if self.num_trials % FULL_EVAL_STEPS else 0
        self.total_iterations = self.num_trials + self.num_trials // FULL_EVAL_STEPS + 1 + extra
        self.dataset, self.program, self.metric = self.rng.choice(TASKS)
        self.task_model = self.rng.choice(list(TASK_MODELS))
        self.prompt_model = self.rng.choice(PROMPT_MODELS)
        self.instructions = self.n // 2
        self.demo_sets = self.n
        # The hidden truth the search uncovers: each candidate's effect on the program's skill.
        self.base_skill = self.rng.uniform(0.30, 0.55)
        self.instruction_effect = [[0.0] + [self.rng.gauss(0.02, 0.06) for _ in range(self.instructions - 1)]
                                   for _ in range(self.predictors)]
        self.demo_effect = [[0.0] + [self.rng.gauss(0.04, 0.05) for _ in range(self.demo_sets - 1)]
                            for _ in range(self.predictors)]
        self.demo_sizes = [[0] + [self.rng.randint(1, 8) for _ in range(self.demo_sets - 1)] for _ in range(self.predictors)]
        self.difficulty = [self.rng.random() for _ in range(self.val_size)]
        self.run: Optional[Run] = None
        self.best: Optional[float] = None
        self.best_minibatch: Optional[float] = None
        self.samples = 0
        self.cost = 0.0
        self.phase = "starting"
        self.trial = 0
        self._lock = threading.Lock()

    # The shape of the run ---------------------------------------------------------------------

    def play(self) -> str:
        args = self.args
        name = f"{self.dataset.split('-')[0]}-mipro-{self.mode}-{self.index + 1:02d}"
        config = {
            "auto": self.mode, "num_trials": self.num_trials, "minibatch": True, "minibatch_size": MINIBATCH_SIZE,
            "minibatch_full_eval_steps": FULL_EVAL_STEPS, "max_bootstrapped_demos": 4, "max_labeled_demos": 4,
            "num_fewshot_candidates": self.demo_sets, "num_instruct_candidates": self.instructions,
            "num_threads": args.threads, "seed": self.rng.randrange(0, 10_000), "init_temperature": 0.5,
        }
        self.run = self.tracker.start_run(
            name, "miprov2", config, tags=["simulated", self.mode, self.task_model], program_name=self.program,
            dataset_name=self.dataset, metric_name=self.metric, task_model=self.task_model,
            prompt_model=self.prompt_model, total_iterations=self.total_iterations,
            description="Played by optruns.simulate: MIPROv2-shaped, no LM involved.",
            metadata={"simulated": True, "predictors": self.predictors, "valsetSize": self.val_size},
        )
        self.show(important=True)
        try:
            with self.run:
                self.bootstrap()
                self.propose()
                best = self.search()
                if self.rng.random() < args.run_failure_rate:
                    raise RuntimeError("litellm.RateLimitError: the provider's daily token quota is exhausted")
                self.run.complete(final_score=best, optimized_program=self.program_state(self.best_params))
        except Cancelled:
            self.phase = "cancelled"
            self.show(important=True)
            return "cancelled"
        except OptRunsError:
            raise
        except Exception:  # noqa: BLE001 - a simulated failure: the context manager recorded it
            self.phase = "failed"
            self.show(important=True)
            return "failed"
        self.phase = "completed"
        self.show(important=True)
        return "completed"

    def bootstrap(self) -> None:
        self.set_phase("bootstrapping")
        for k in range(3, self.demo_sets):  # sets 0-2: zero-shot, labeled only, unshuffled (cheap)
            self.progress(f"bootstrapping demo set {k + 1}/{self.demo_sets} with the teacher")
            self.sleep(self.rng.uniform(6, 14))

    def propose(self) -> None:
        self.set_phase("proposing")
        self.progress("summarizing the dataset and the program")
        self.sleep(self.rng.uniform(8, 15))
        texts = {}
        for p in range(self.predictors):
            texts[str(p)] = {
                "instructions": ["Given the fields, produce the answer."] + [
                    f"Candidate {i}: {', '.join(self.rng.sample(TIPS, 2))}." for i in range(1, self.instructions)],
                "demoSetSizes": self.demo_sizes[p],
            }
            for i in range(1, self.instructions):
                self.progress(f"proposing instruction {i}/{self.instructions - 1} for predictor {p}")
                self.sleep(self.rng.uniform(2, 5))
        assert self.run is not None
        self.run.update(metadata={"simulated": True, "predictors": self.predictors, "valsetSize": self.val_size})
        # The proposed candidates as MIPROv2 holds them: an instruction text and a demo set per index and predictor.
        candidates: List[Dict[str, Any]] = []
        for p, proposed in texts.items():
            candidates += [{"predictor": p, "kind": "instruction", "index": i, "text": text}
                           for i, text in enumerate(proposed["instructions"])]
            candidates += [{"predictor": p, "kind": "demos", "index": d,
                            "demos": [{"question": f"{self.dataset} demo {d}.{k}", "answer": f"answer {k}"} for k in range(size)]}
                           for d, size in enumerate(proposed["demoSetSizes"])]
        self.run.log_candidates(candidates)

    def search(self) -> float:
        self.set_phase("searching")
        zero = tuple((0, 0) for _ in range(self.predictors))
        baseline = self.evaluate(1, "baseline", zero, list(range(self.val_size)))
        self.best, self.best_params = baseline, zero
        scores: Dict[Tuple[Tuple[int, int], ...], List[float]] = {}
        fully_evaluated = {zero}
        trial_num = 2
        for t in range(self.num_trials):
            params = self.choose(scores, t)
            batch = self.rng.sample(range(self.val_size), MINIBATCH_SIZE)
            score = self.evaluate(trial_num, "minibatch", params, batch)
            scores.setdefault(params, []).append(score)
            self.best_minibatch = max(self.best_minibatch or 0.0, score)
            if trial_num % (FULL_EVAL_STEPS + 1) == 0 or trial_num == self.total_iterations - 1:
                ranked = sorted(((sum(v) / len(v), p) for p, v in scores.items() if p not in fully_evaluated),
                                reverse=True)
                candidate = ranked[0][1] if ranked else params
                fully_evaluated.add(candidate)
                full = self.evaluate(trial_num + 1, "full", candidate, list(range(self.val_size)))
                if full > (self.best or 0.0):
                    self.best, self.best_params = full, candidate
                trial_num += 1
            trial_num += 1
        return self.best or baseline

    def choose(self, scores: Dict[Any, List[float]], t: int) -> Tuple[Tuple[int, int], ...]:
        # TPE-ish: explore at first, then mostly perturb the best-averaging combination.
        if scores and t > self.num_trials * 0.3 and self.rng.random() < 0.7:
            best = max(scores.items(), key=lambda kv: sum(kv[1]) / len(kv[1]))[0]
            params = [list(p) for p in best]
            p = self.rng.randrange(self.predictors)
            if self.rng.random() < 0.5:
                params[p][0] = self.rng.randrange(self.instructions)
            else:
                params[p][1] = self.rng.randrange(self.demo_sets)
            return tuple((i, d) for i, d in params)
        return tuple((self.rng.randrange(self.instructions), self.rng.randrange(self.demo_sets))
                     for _ in range(self.predictors))

    def skill(self, params: Sequence[Tuple[int, int]]) -> float:
        return self.base_skill + sum(self.instruction_effect[p][i] + self.demo_effect[p][d]
                                     for p, (i, d) in enumerate(params))

    # One evaluation: the iteration, then every example as a sample, by a pool of threads ----------

    def evaluate(self, iteration: int, kind: str, params: Sequence[Tuple[int, int]], examples: List[int]) -> float:
        run = self.run
        assert run is not None
        self.trial = iteration
        started = time.time()
        param_doc = {"predictors": {str(p): {"instruction": i, "demos": d} for p, (i, d) in enumerate(params)}}
        run.log_iteration(iteration, kind=kind, params=param_doc, candidate_program=self.program_state(params),
                          started_at=started)
        what = "minibatch of 35" if kind == "minibatch" else f"full evaluation of {len(examples)}"
        self.progress(f"trial {iteration}/{self.total_iterations}: {what}", iteration)
        skill = self.skill(params)
        demos = sum(self.demo_sizes[p][d] for p, (_, d) in enumerate(params))
        prices = TASK_MODELS[self.task_model]
        totals = {"score": 0.0, "ok": 0, "failed": 0, "prompt": 0, "completion": 0, "cost": 0.0}
        lock = threading.Lock()

        def example(position: int) -> None:
            if self.stop.is_set():
                return
            rng = random.Random(self.rng.random() + position)
            latency = rng.lognormvariate(math.log(1400 * math.sqrt(self.predictors)), 0.45)
            self.sleep(latency / 1000.0)
            index = examples[position]
            failed = rng.random() < self.args.failure_rate
            prompt = int(280 + 160 * demos + rng.randint(20, 400)) * self.predictors
            completion = rng.randint(30, 180) * self.predictors
            cost = (prompt * prices[0] + completion * prices[1]) / 1_000_000
            correct = not failed and skill + rng.gauss(0, 0.12) > self.difficulty[index]
            score = 1.0 if correct else 0.0
            answer = f"answer {index}"
            run.log_sample(
                iteration, sample_index=position, example_id=f"{self.dataset}-{index:04d}",
                inputs={"question": f"Question {index} of {self.dataset}?"}, expected={"answer": answer},
                prediction=None if failed else {"answer": answer if correct else f"not {answer}"},
                score=score, success=not failed, error=rng.choice(ERRORS) if failed else None,
                latency_ms=round(latency, 1), prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost,
                trace_id=uuid.UUID(int=rng.getrandbits(128)).hex, span_id=f"{rng.getrandbits(64):016x}",
            )
            with lock:
                totals["score"] += score
                totals["failed" if failed else "ok"] += 1
                totals["prompt"] += prompt
                totals["completion"] += completion
                totals["cost"] += cost
            with self._lock:
                self.samples += 1
                self.cost += cost

        with ThreadPoolExecutor(max_workers=self.args.threads, thread_name_prefix=f"sim{self.index}") as pool:
            list(pool.map(example, range(len(examples))))
        if self.stop.is_set():
            raise Cancelled()
        score = round(totals["score"] / len(examples), 4)
        run.log_iteration(
            iteration, score, kind=kind, samples_evaluated=len(examples), samples_successful=totals["ok"],
            samples_failed=totals["failed"], prompt_tokens=totals["prompt"], completion_tokens=totals["completion"],
            cost_usd=round(totals["cost"], 6), completed_at=time.time(),
        )
        if kind == "minibatch":
            self.best_minibatch = max(self.best_minibatch or 0.0, score)
        self.show()
        return score

    def program_state(self, params: Sequence[Tuple[int, int]]) -> Dict[str, Any]:
        return {"predictors": {str(p): {"instruction": i, "demos": self.demo_sizes[p][d]}
                               for p, (i, d) in enumerate(params)}}

    # Time, progress and the terminal ------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds / self.args.speed):
            raise Cancelled()

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.show(important=True)

    def progress(self, message: str, iteration: Optional[int] = None) -> None:
        assert self.run is not None
        self.run.progress(phase=self.phase, current_iteration=iteration, total_iterations=self.total_iterations,
                          message=message)
        self.show()

    def show(self, important: bool = False) -> None:
        name = self.run.data.get("runName", "") if self.run else ""
        best = f"{self.best:.3f}" if self.best is not None else "  -  "
        mb = f"{self.best_minibatch:.3f}" if self.best_minibatch is not None else "  -  "
        trial = f"trial {self.trial:>2}/{self.total_iterations}" if self.trial else " " * 11
        self.board.set(self.index, f"run {self.index + 1:>2}/{self.total}  {name:<26} {self.phase:<13} {trial}  "
                                   f"best {best} (minibatch {mb})  samples {self.samples:>6,}  ${self.cost:.4f}",
                       important=important)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m optruns.simulate",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Plays MIPROv2-shaped optimization runs against an OptimizationRuns gateway, through the Python
client, so you can watch live runs without DSPy or an LM.

Each run: a bootstrapping phase (few-shot demo sets), a proposal phase (instruction candidates),
then the search at MIPROv2's cadence — the default program's full evaluation (the baseline),
minibatch trials of 35 examples, and a full evaluation of the best-averaging candidate every 5
trials and at the end. Full evaluations cover 100 / 300 / 1,000 examples for light / medium /
heavy (MIPROv2's auto settings). Scores improve noisily; some samples fail; every sample has
latency, tokens, cost and a trace id. One progress line per run.""",
        epilog="""\
examples:
  python -m optruns.simulate --api-key ork_... --runs 8 --mode light --workers 4 --speed 10
  python -m optruns.simulate --admin-key "$OPTRUNS_ADMIN_KEY" --mode heavy --runs 2 --speed 20

environment: OPTRUNS_URL, OPTRUNS_API_KEY, OPTRUNS_ADMIN_KEY provide the defaults.
--speed 1 takes about as long as the real thing (minutes per light run, an hour or more per heavy one).""",
    )
    parser.add_argument("--url", default=os.environ.get("OPTRUNS_URL", "http://localhost:8080"),
                        help="the gateway (default: $OPTRUNS_URL or http://localhost:8080)")
    parser.add_argument("--api-key", default=os.environ.get("OPTRUNS_API_KEY"),
                        help="a project's API key (default: $OPTRUNS_API_KEY)")
    parser.add_argument("--admin-key", default=os.environ.get("OPTRUNS_ADMIN_KEY"),
                        help="without --api-key: create a project and a key with this admin key")
    parser.add_argument("--project", default="simulator",
                        help="with --admin-key: the project to use, created the first time (default simulator)")
    parser.add_argument("--runs", type=int, default=8, help="how many runs to play (default 8)")
    parser.add_argument("--mode", choices=[*MODES, "mixed"], default="light",
                        help="MIPROv2 auto mode of every run, or mixed (default light)")
    parser.add_argument("--workers", type=int, default=4, help="runs played at the same time (default 4)")
    parser.add_argument("--threads", type=int, default=8,
                        help="evaluation threads per run, each logging its samples (default 8, DSPy's default)")
    parser.add_argument("--speed", type=float, default=1.0, help="time compression: 10 plays ten times faster (default 1)")
    parser.add_argument("--failure-rate", type=float, default=0.03, help="share of samples that fail (default 0.03)")
    parser.add_argument("--run-failure-rate", type=float, default=0.0,
                        help="share of runs that fail at the end of their search (default 0)")
    parser.add_argument("--seed", type=int, default=None, help="make the runs reproducible")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.workers < 1 or args.threads < 1 or args.speed <= 0:
        parser.error("--runs, --workers, --threads and --speed must be positive")
    if not 0 <= args.failure_rate <= 1 or not 0 <= args.run_failure_rate <= 1:
        parser.error("failure rates are between 0 and 1")
    if not args.api_key and not args.admin_key:
        parser.error("give --api-key (or $OPTRUNS_API_KEY), or --admin-key to create a project and a key")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM cancel the runs in play (also when started in the background, where SIGINT
    # arrives ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    key = args.api_key
    if not key:
        admin = Admin(args.url, args.admin_key)
        # The same name is the same project (an idempotent create by an id derived from the name).
        project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"optruns.simulate/{args.project}"))
        project = admin.create_project(args.project, project_id=project_id)
        created = admin.create_api_key(project["id"], "optruns.simulate")
        admin.close()
        key = created["key"]
        print(f"project {project['name']} ({project['id']}), API key {key}")
        print(f"  curl -H 'Authorization: Bearer {key}' {args.url}/api/optimization/runs")
    tracker = Tracker(args.url, key, batch_size=500, flush_interval=0.2)
    board = Board(args.runs, quiet=args.quiet)
    stop = threading.Event()
    simulations = [Simulation(i, args.runs, args, tracker, board, stop) for i in range(args.runs)]
    outcomes: Dict[str, int] = {}
    errors: List[str] = []
    started = time.monotonic()
    board.start()
    pool = ThreadPoolExecutor(max_workers=args.workers, thread_name_prefix="run")
    futures = [pool.submit(s.play) for s in simulations]
    try:
        for future in futures:
            try:
                outcome = future.result()
            except OptRunsError as exc:
                outcome = "error"
                errors.append(str(exc))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    except KeyboardInterrupt:
        stop.set()
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True)
        board.stop()
        tracker.close(timeout=10)
        print("\ninterrupted: running runs were cancelled", file=sys.stderr)
        return 130
    pool.shutdown(wait=True)
    board.stop()
    tracker.close(timeout=60)
    samples = sum(s.samples for s in simulations)
    summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
    print(f"{args.runs} runs ({summary}), {samples:,} samples in {time.monotonic() - started:.1f} s")
    for error in errors[:5]:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt()


if __name__ == "__main__":
    sys.exit(main())
