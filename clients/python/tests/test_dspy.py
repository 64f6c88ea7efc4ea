"""optruns.dspy driven by the DSPy 3.3 STAND-IN (tests/dspy_standin.py — not DSPy; DSPy cannot be
installed here), against a real gateway."""

from __future__ import annotations

import logging
import threading
import unittest
from typing import Any, Dict, List, Optional, Tuple

import dspy_standin as dspy
import otel_standin
import support
from support import new_tracker, requires_gateway

import optruns._otel as otel
import optruns.dspy as adapter
from optruns.dspy import OptRunsCallback, tracked_metric


def mipro_setup(prefix: str, failing: int = 3) -> Tuple[dspy.QA, List[dspy.Example], List[dspy.Example]]:
    trainset = dspy.make_examples(40, prefix=f"{prefix}-train")
    valset = dspy.make_examples(100, failing=failing, prefix=f"{prefix}-val")
    return dspy.QA(), trainset, valset


def optimize(callback: OptRunsCallback, student: Any, trainset: list, valset: list, *,
             through_callback: bool = True, metric: Any = None, compile_args: Optional[Dict[str, Any]] = None,
             **options: Any) -> Any:
    metric = metric if metric is not None else tracked_metric(dspy.exact_match)
    optimizer = dspy.MIPROv2(metric=metric, auto=options.pop("auto", "light"), num_threads=8, **options)
    compile_args = compile_args or {}
    if through_callback:
        return callback.compile(optimizer, student, trainset=trainset, valset=valset, **compile_args)
    return optimizer.compile(student, trainset=trainset, valset=valset, **compile_args)


def judge(example: dspy.Example, prediction: dspy.Prediction, trace: Any = None) -> int:
    """A 1-5 judge: DSPy's evaluation scores are then up to 500."""
    return 5 if example.answer == prediction.answer else 1


class TrackingTest(unittest.TestCase):
    def setUp(self) -> None:
        dspy.reset()
        self._saved = adapter._dspy
        adapter._dspy = dspy  # the adapter's DSPy API (dspy.context, dspy.settings) is the stand-in's
        self.tracker = new_tracker(batch_size=500, flush_interval=0.1)

    def tearDown(self) -> None:
        adapter._dspy = self._saved
        dspy.reset()

    def run_one(self, *, through_callback: bool = True, failing: int = 3, metric: Any = None,
                compile_args: Optional[Dict[str, Any]] = None, callback: Optional[OptRunsCallback] = None,
                **run_fields: Any) -> Tuple[OptRunsCallback, Any, Dict[str, Any], List[Dict[str, Any]]]:
        callback = callback or OptRunsCallback(self.tracker, dataset_name="standin-qa", tags=["standin"], **run_fields)
        dspy.configure(callbacks=[callback], track_usage=True)
        student, trainset, valset = mipro_setup(self.id().rsplit(".", 1)[-1], failing=failing)
        best = optimize(callback, student, trainset, valset, through_callback=through_callback, metric=metric,
                        compile_args=compile_args)
        self.assertEqual(len(callback.runs), 1)
        run = callback.runs[0]
        return callback, best, self.tracker.get_run(run.id), self.tracker.iterations(run.id)

    @staticmethod
    def compile_of(callback: OptRunsCallback) -> Any:
        return callback.compiles[-1]


@requires_gateway
class DspyAdapterTests(TrackingTest):
    def test_a_miprov2_compile_becomes_one_run_with_an_iteration_per_evaluation(self) -> None:
        callback, best, data, iterations = self.run_one()
        # MIPROv2 light with one predictor: 10 minibatch trials of 35, full evaluations at trials 7 and 13.
        self.assertEqual(data["status"], "completed")
        self.assertEqual(data["optimizerType"], "miprov2")
        self.assertEqual(data["totalIterations"], 13)
        self.assertEqual([i["iteration"] for i in iterations], list(range(1, 14)))
        kinds = {i["iteration"]: i["kind"] for i in iterations}
        self.assertEqual(kinds[1], "baseline")
        self.assertEqual([n for n, k in kinds.items() if k == "full"], [7, 13])
        self.assertEqual(sum(1 for k in kinds.values() if k == "minibatch"), 10)
        self.assertEqual(data["config"]["auto"], "light")
        self.assertEqual(data["config"]["minibatch_size"], 35)
        self.assertEqual(data["config"]["seed"], 9)
        self.assertEqual(data["datasetName"], "standin-qa")
        self.assertEqual(data["programName"], "QA")
        self.assertEqual(data["metricName"], "exact_match")
        self.assertEqual(data["metadata"]["dspy"]["version"], dspy.__version__)
        # Every evaluated example once; failing programs as failed samples with their errors.
        self.assertEqual(data["samplesEvaluated"], 100 + 10 * 35 + 2 * 100)
        self.assertGreater(data["samplesFailed"], 0)
        self.assertGreater(data["promptTokens"], 0)
        baseline = [s for s in support.all_samples(self.tracker, data["id"], iteration=1)]
        self.assertEqual(sorted(s["sampleIndex"] for s in baseline), list(range(100)))
        failed = [s for s in baseline if not s["success"]]
        self.assertEqual(len(failed), 3)
        self.assertTrue(all(s["error"].startswith("RuntimeError: the LM refused") for s in failed), failed[0]["error"])
        self.assertTrue(all(s["latencyMs"] is not None and s["exampleId"].startswith("ex-") for s in baseline))
        self.assertEqual(iterations[0]["candidateProgram"]["predictors"]["0"]["instructions"], "Answer the question.")
        self.assertEqual(iterations[0]["metadata"]["dspyScore"], best.trial_logs[1]["full_eval_score"])

    def test_scores_are_fractions_and_the_best_comes_from_full_evaluations_only(self) -> None:
        callback, best, data, iterations = self.run_one()
        compile_ = self.compile_of(callback)
        for iteration in iterations:
            raw = compile_.iterations[iteration["iteration"]]["raw"]
            self.assertAlmostEqual(iteration["score"], round(raw / 100, 4))
        full = [i["score"] for i in iterations if i["kind"] in ("baseline", "full")]
        minibatch = [i["score"] for i in iterations if i["kind"] == "minibatch"]
        self.assertAlmostEqual(data["bestScore"], max(full))
        self.assertAlmostEqual(data["bestMinibatchScore"], max(minibatch))
        self.assertGreater(max(minibatch), max(full), "the stand-in's minibatch noise should beat the full scores")
        self.assertIn(data["bestIteration"], [i["iteration"] for i in iterations if i["kind"] != "minibatch"])
        self.assertAlmostEqual(data["finalScore"], round(best.score / 100, 4))
        self.assertAlmostEqual(data["baselineScore"], iterations[0]["score"])

    def test_trial_indices_from_trial_logs_are_backfilled_and_stored(self) -> None:
        callback, best, data, iterations = self.run_one()
        compile_ = self.compile_of(callback)
        logs = best.trial_logs
        for trial, entry in logs.items():
            if "0_predictor_instruction" in entry:
                self.assertEqual(compile_.backfilled[trial]["predictors"]["0"],
                                 {"instruction": entry["0_predictor_instruction"], "demos": entry["0_predictor_demos"]})
        self.assertEqual(compile_.backfilled[1], {"predictors": {"0": {"instruction": 0, "demos": 0}}})
        # Full evaluations take the indices of the minibatch trial whose program they evaluated.
        for trial in (7, 13):
            program = logs[trial]["full_eval_program"]
            matches = [t for t, e in logs.items() if e.get("mb_program") is not None
                       and adapter._signature(e["mb_program"]) == adapter._signature(program)]
            self.assertTrue(matches)
            self.assertEqual(compile_.backfilled[trial], compile_.backfilled[matches[0]])
        self.assertEqual(set(compile_.backfilled), set(range(1, 14)))
        self.assertNotIn("duplicate", set(compile_.backfill_outcomes.values()))
        for iteration in iterations:
            self.assertEqual(iteration["params"], compile_.backfilled[iteration["iteration"]])

    def test_the_candidates_are_stored_with_their_texts_under_the_trial_logs_indices(self) -> None:
        callback, best, data, iterations = self.run_one()
        stored = callback.runs[0].candidates()
        (predictor,) = stored["predictors"]
        self.assertEqual(predictor["predictor"], "0")
        texts = {c["index"]: c["text"] for c in predictor["instruction"]["candidates"] if c["recorded"]}
        demos = {c["index"]: c["demos"] for c in predictor["demos"]["candidates"] if c["recorded"]}
        self.assertEqual(texts[0], "Answer the question.")
        for trial, entry in best.trial_logs.items():
            program = entry.get("mb_program")
            if program is None:
                continue
            generate = program.generate
            self.assertEqual(texts[entry["0_predictor_instruction"]], generate.signature.instructions)
            self.assertEqual(demos[entry["0_predictor_demos"]], [d.toDict() for d in generate.demos])
        # Every candidate a trial chose has its content; none is named by params alone.
        for kind in ("instruction", "demos"):
            chosen = [c for c in predictor[kind]["candidates"] if c["timesChosen"] > 0]
            self.assertTrue(chosen)
            self.assertTrue(all(c["recorded"] for c in chosen), chosen)

    def test_a_compile_that_raises_fails_the_run_with_the_traceback(self) -> None:
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        student, trainset, valset = mipro_setup("raises")
        optimizer = dspy.MIPROv2(metric=tracked_metric(dspy.exact_match), auto="light")
        optimizer.fail_at_trial = 4
        with self.assertRaises(RuntimeError):
            optimizer.compile(student, trainset=trainset, valset=valset)
        data = self.tracker.get_run(callback.runs[0].id)
        self.assertEqual(data["status"], "failed")
        self.assertIn("stand-in failure in trial 4", data["errorMessage"])
        self.assertIn("_optimize_prompt_parameters", data["errorDetails"]["traceback"])
        self.assertEqual(data["samplesEvaluated"], 100 + 2 * 35)

    def test_when_every_combination_is_fully_evaluated_miprov2_raises_and_the_run_fails(self) -> None:
        # Zero-shot with two instruction candidates: two combinations; the third full evaluation finds none left.
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        student, trainset, valset = mipro_setup("exhausted", failing=0)
        optimizer = dspy.MIPROv2(metric=tracked_metric(dspy.exact_match), auto=None, num_candidates=2,
                                 max_bootstrapped_demos=0, max_labeled_demos=0)
        with self.assertRaises(ValueError):
            optimizer.compile(student, trainset=trainset, valset=valset, num_trials=20, minibatch_full_eval_steps=2)
        data = self.tracker.get_run(callback.runs[0].id)
        self.assertEqual(data["status"], "failed")
        self.assertIn("No valid program found", data["errorMessage"])

    def test_parallel_optimizations_over_the_same_examples_stay_apart(self) -> None:
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        _, trainset, valset = mipro_setup("parallel", failing=0)
        errors: list = []

        def one(seed: int) -> None:
            try:
                optimizer = dspy.MIPROv2(metric=tracked_metric(dspy.exact_match), auto="light", num_threads=4, seed=seed)
                optimizer.compile(dspy.QA(), trainset=trainset, valset=valset)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(seed,)) for seed in (3, 4, 5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(callback.runs), 3)
        for run in callback.runs:
            data = self.tracker.get_run(run.id)
            self.assertEqual((data["status"], data["samplesEvaluated"], data["completedIterations"]), ("completed", 650, 13))

    def test_without_dspy_context_the_examples_identify_the_evaluation(self) -> None:
        adapter._dspy = None
        callback, best, data, iterations = self.run_one()
        self.assertEqual(data["samplesEvaluated"], 650)
        self.assertEqual(data["status"], "completed")

    def test_straggler_reruns_do_not_count_an_example_twice(self) -> None:
        # DSPy re-submits an item running for 120 s once at most 3 are pending; the stand-in's time is shortened.
        dspy.STRAGGLER_TIMEOUT = 0.0001
        slow = dspy.QA.forward

        def forward(program: Any, question: str) -> Any:
            if question.endswith("99 + 99?") and not getattr(program, "_slowed", False):
                program._slowed = True
                threading.Event().wait(1.5)
            return slow(program, question)

        dspy.QA.forward = forward  # type: ignore[method-assign]
        try:
            callback, best, data, iterations = self.run_one(failing=0)
        finally:
            dspy.QA.forward = slow  # type: ignore[method-assign]
        self.assertEqual(data["samplesEvaluated"], 650)


@requires_gateway
class RealDspyBehaviourTests(TrackingTest):
    """Issue 11: what real DSPy 3.3.0 / 3.3.1 does that the adapter must survive, item by item."""

    # 1. Ten failing examples: DSPy cancels the evaluation and MIPROv2 substitutes 0.0.
    def test_a_cancelled_evaluation_keeps_its_samples_and_is_not_a_zero_score(self) -> None:
        callback, best, data, iterations = self.run_one(failing=12)
        baseline = iterations[0]
        self.assertEqual(best.trial_logs[1]["full_eval_score"], 0.0, "MIPROv2's placeholder for the cancelled evaluation")
        self.assertIsNone(baseline["score"])
        self.assertIn("Execution cancelled", baseline["metadata"]["error"])
        samples = support.all_samples(self.tracker, data["id"], iteration=1)
        failed = [s for s in samples if not s["success"]]
        self.assertGreaterEqual(len(failed), 10)
        self.assertTrue(all(s["error"].startswith("RuntimeError: the LM refused") for s in failed))
        self.assertEqual(baseline["samplesFailed"], len(failed))
        self.assertGreater(data["samplesFailed"], 0)
        # Every full evaluation covers the 12 failing examples: none is real, so there is no best or final score.
        self.assertTrue(all(i["score"] is None for i in iterations if i["kind"] != "minibatch"))
        self.assertEqual(data["status"], "completed")
        self.assertIsNone(data["finalScore"])
        self.assertIsNone(data["bestScore"])

    # 2. A metric outside [0, 1]: the scale applies to iteration and final scores too.
    def test_a_one_to_five_judge_scores_every_iteration_and_keeps_dspys_value(self) -> None:
        callback, best, data, iterations = self.run_one(metric=tracked_metric(judge, scale=5))
        self.assertEqual(len(iterations), 13)
        for iteration in iterations:
            raw = iteration["metadata"]["dspyScore"]
            self.assertGreater(raw, 100)
            self.assertAlmostEqual(iteration["score"], round(raw / 100 / 5, 4))
        self.assertAlmostEqual(data["finalScore"], round(best.score / 500, 4))
        samples = support.all_samples(self.tracker, data["id"], iteration=1)
        self.assertEqual({s["score"] for s in samples if s["success"]}, {0.2, 1.0})

    def test_an_unscalable_score_is_reported_not_dropped_silently(self) -> None:
        with self.assertLogs("optruns.dspy", logging.WARNING) as logs:
            callback, best, data, iterations = self.run_one(metric=judge)  # unwrapped, no scale given
        self.assertTrue(all(i["score"] is None for i in iterations))
        self.assertIn("outside [0, 1]", iterations[0]["metadata"]["scoreError"])
        self.assertTrue(any("outside [0, 1]" in line for line in logs.output))
        # Told the scale, the callback scales an unwrapped metric too.
        dspy.reset()
        callback, best, data, iterations = self.run_one(metric=judge, callback=OptRunsCallback(self.tracker, scale=5))
        self.assertTrue(all(i["score"] is not None for i in iterations))

    # 3. Compile events shipped in 3.3.1; 3.3.0 has none.
    def test_on_dspy_3_3_0_only_callback_compile_is_tracked(self) -> None:
        dspy.use_version("3.3.0")
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        optimize(callback, *mipro_setup("v330-plain", failing=0), through_callback=False)
        self.assertEqual(callback.runs, [])
        optimize(callback, *mipro_setup("v330-callback", failing=0))
        self.assertEqual(len(callback.runs), 1)
        self.assertEqual(self.compile_of(callback).nested, 0)
        data = self.tracker.get_run(callback.runs[0].id)
        self.assertEqual((data["status"], data["samplesEvaluated"]), ("completed", 650))

    def test_on_dspy_3_3_1_a_plain_compile_is_exactly_one_run_with_its_nested_compiles(self) -> None:
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        optimize(callback, *mipro_setup("v331-plain", failing=0), through_callback=False)
        self.assertEqual(len(callback.runs), 1, "the nested LabeledFewShot / BootstrapFewShot compiles are part of the run")
        compile_ = self.compile_of(callback)
        self.assertEqual(compile_.nested, 9)
        self.assertEqual([p for p in compile_.phases if p], ["bootstrapping", "proposing", "searching"])
        data = self.tracker.get_run(callback.runs[0].id)
        self.assertEqual((data["status"], data["samplesEvaluated"]), ("completed", 650))
        # callback.compile on top of DSPy's own events is still one run.
        again = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[again])
        optimize(again, *mipro_setup("v331-again", failing=0))
        self.assertEqual(len(again.runs), 1)

    # 4. Trace ids: a span of the example's own around its program call, or none.
    def test_without_opentelemetry_the_trace_ids_stay_empty(self) -> None:
        otel.forget()  # the real import: opentelemetry-api is not installed here
        try:
            import opentelemetry  # noqa: F401
            self.skipTest("opentelemetry is installed")
        except ImportError:
            pass
        callback, best, data, iterations = self.run_one(failing=0)
        samples = support.all_samples(self.tracker, data["id"], iteration=1)
        self.assertTrue(all(s["traceId"] is None and s["spanId"] is None for s in samples))

    def test_with_opentelemetry_each_example_has_its_own_span(self) -> None:
        # tests/otel_standin.py: a STAND-IN for opentelemetry-api with a recording provider (not OpenTelemetry).
        otel_standin.install()
        otel.forget()
        instrumentor = LmSpans()
        try:
            with otel_standin.Tracer("ambient").start_as_current_span("the caller's span"):
                callback = OptRunsCallback(self.tracker)
                dspy.configure(callbacks=[callback, instrumentor], track_usage=True)
                optimize(callback, *mipro_setup("otel", failing=2), through_callback=False)
        finally:
            otel_standin.uninstall()
            otel.forget()
        data = self.tracker.get_run(callback.runs[0].id)
        samples = support.all_samples(self.tracker, data["id"], iteration=1)
        spans = {format(s.get_span_context().span_id, "016x"): s for s in otel_standin.ended if s.name == "QA"}
        self.assertEqual(len({s["spanId"] for s in samples}), 100)
        for sample in samples:
            span = spans[sample["spanId"]]
            self.assertEqual(format(span.get_span_context().trace_id, "032x"), sample["traceId"])
            self.assertEqual(span.attributes["optruns.iteration"], 1)
            self.assertEqual(span.attributes["optruns.example_id"], sample["exampleId"])
            self.assertEqual(span.attributes["optruns.run_id"], data["id"])
            self.assertIsNone(span.parent, "DSPy's worker threads carry no OpenTelemetry context")
            self.assertEqual(span.error is not None, not sample["success"])
        lm_spans = [s for s in otel_standin.ended if s.name == "lm" and s.parent is not None and s.parent.name == "QA"]
        self.assertTrue(lm_spans, "LM-call spans of an instrumentor nest under the example's span")

    # 5. Cost from the LM history; cached calls have none.
    def test_cost_comes_from_the_lm_history_and_cached_calls_report_none(self) -> None:
        callback, best, data, iterations = self.run_one(failing=0)
        baseline = support.all_samples(self.tracker, data["id"], iteration=1)
        self.assertTrue(all(s["costUsd"] == 0.0004 for s in baseline), {s["costUsd"] for s in baseline})
        self.assertAlmostEqual(iterations[0]["costUsd"], 0.04)
        self.assertGreater(data["costUsd"], 0.04)
        # Trial 7 re-evaluates a candidate already seen on a minibatch: those prompts are cached, and DSPy
        # reports neither cost nor tokens for them (the service stores an absent cost as 0).
        full = support.all_samples(self.tracker, data["id"], iteration=7)
        cached = [s for s in full if not s["costUsd"]]
        self.assertTrue(cached)
        self.assertTrue(all(not s["promptTokens"] for s in cached))
        self.assertTrue(all(s["costUsd"] == 0.0004 and s["promptTokens"] for s in full if s not in cached))

    # 6. Compile-time demo overrides decide zero-shot, and so the trial count.
    def test_the_planned_trial_count_follows_compile_time_overrides(self) -> None:
        callback, best, data, iterations = self.run_one(compile_args={"max_bootstrapped_demos": 0, "max_labeled_demos": 0})
        self.assertEqual(len(iterations), 12)
        self.assertEqual((data["totalIterations"], data["completedIterations"]), (12, 12))

    # 7. Two callbacks (two trackers or projects) each track the whole optimization.
    def test_two_callbacks_both_track(self) -> None:
        other = new_tracker(batch_size=500, flush_interval=0.1)
        first, second = OptRunsCallback(self.tracker), OptRunsCallback(other)
        dspy.configure(callbacks=[first, second], track_usage=True)
        optimize(first, *mipro_setup("two", failing=2), through_callback=False)
        for callback, tracker in ((first, self.tracker), (second, other)):
            self.assertEqual(len(callback.runs), 1)
            data = tracker.get_run(callback.runs[0].id)
            self.assertEqual((data["status"], data["samplesEvaluated"], data["completedIterations"]),
                             ("completed", 650, 13))
            self.assertGreater(data["samplesFailed"], 0)
            self.assertIsNotNone(data["finalScore"])

    def test_on_dspy_3_3_0_callback_compile_brackets_every_configured_callback(self) -> None:
        dspy.use_version("3.3.0")
        other = new_tracker(batch_size=500, flush_interval=0.1)
        first, second = OptRunsCallback(self.tracker), OptRunsCallback(other)
        dspy.configure(callbacks=[first, second])
        optimize(first, *mipro_setup("two-330", failing=0))
        self.assertEqual((len(first.runs), len(second.runs)), (1, 1))
        self.assertEqual(other.get_run(second.runs[0].id)["samplesEvaluated"], 650)

    # 8. Smaller.
    def test_callback_compile_passes_the_inputs_dspy_passes(self) -> None:
        seen: List[Dict[str, Any]] = []

        class Recording(OptRunsCallback):
            def on_compile_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
                seen.append(dict(inputs))

        class KeywordOptimizer(dspy.Teleprompter):
            def compile(self, student: Any, *, trainset: list, teacher: Any = None, **kwargs: Any) -> Any:
                return student

        dspy.configure(callbacks=[Recording(self.tracker)])
        KeywordOptimizer().compile(dspy.QA(), trainset=[], depth=2)  # DSPy's own event (3.3.1)
        dspy.use_version("3.3.0")
        dspy.configure(callbacks=[])
        Recording(self.tracker).compile(KeywordOptimizer(), dspy.QA(), trainset=[], depth=2)  # the bracket
        self.assertEqual(len(seen), 2)
        self.assertEqual(seen[0]["kwargs"], {"depth": 2})
        self.assertEqual({k: v for k, v in seen[1].items() if k != "student"},
                         {k: v for k, v in seen[0].items() if k != "student"})

    def test_an_unwrapped_metric_gives_samples_with_latency_and_tokens(self) -> None:
        callback, best, data, iterations = self.run_one(metric=dspy.exact_match)
        self.assertEqual(data["samplesEvaluated"], 650)
        samples = support.all_samples(self.tracker, data["id"], iteration=1)
        ok = [s for s in samples if s["success"]]
        self.assertTrue(ok and all(s["latencyMs"] is not None and s["promptTokens"] for s in ok))
        self.assertEqual(len(samples) - len(ok), 3)

    def test_miprov2_refuses_what_real_dspy_refuses(self) -> None:
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback], lm=None)
        with self.assertRaisesRegex(ValueError, "set a default LM"):
            dspy.MIPROv2(metric=dspy.exact_match)
        dspy.configure(lm=dspy.LM())
        student, trainset, valset = mipro_setup("refused", failing=0)
        with self.assertRaisesRegex(ValueError, "User confirmation is removed"):
            dspy.MIPROv2(metric=dspy.exact_match).compile(student, trainset=trainset, requires_permission_to_run=True)
        with self.assertRaisesRegex(ValueError, "num_candidates and num_trials cannot be set"):
            dspy.MIPROv2(metric=dspy.exact_match, auto="light").compile(student, trainset=trainset, num_trials=5)
        dspy.OPTUNA_INSTALLED = False
        with self.assertRaisesRegex(ImportError, "optuna"):
            dspy.MIPROv2(metric=dspy.exact_match).compile(student, trainset=trainset, valset=valset)
        self.assertEqual([self.tracker.get_run(r.id)["status"] for r in callback.runs], ["failed"] * 3)


class LmSpans(dspy.BaseCallback):
    """What an OpenTelemetry instrumentor of LM calls does: a span around each, under the current one."""

    def __init__(self) -> None:
        self._open: Dict[str, Any] = {}

    def on_lm_start(self, call_id: str, instance: Any, inputs: Dict[str, Any]) -> None:
        manager = otel_standin.Tracer("instrumentor").start_as_current_span("lm")
        manager.__enter__()
        self._open[call_id] = manager

    def on_lm_end(self, call_id: str, outputs: Any, exception: Optional[BaseException] = None) -> None:
        self._open.pop(call_id).__exit__(None, None, None)


if __name__ == "__main__":
    unittest.main()
