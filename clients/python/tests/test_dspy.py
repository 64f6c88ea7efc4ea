"""optruns.dspy driven by the DSPy 3.3 STAND-IN (tests/dspy_standin.py — not DSPy; DSPy cannot be
installed here), against a real gateway."""

from __future__ import annotations

import threading
import unittest
from typing import Any, Dict, List, Optional, Tuple

import dspy_standin as dspy
import support
from support import new_tracker, requires_gateway

import optruns.dspy as adapter
from optruns.dspy import OptRunsCallback, tracked_metric


def mipro_setup(prefix: str, failing: int = 3) -> Tuple[dspy.QA, List[dspy.Example], List[dspy.Example]]:
    trainset = dspy.make_examples(40, prefix=f"{prefix}-train")
    valset = dspy.make_examples(100, failing=failing, prefix=f"{prefix}-val")
    return dspy.QA(), trainset, valset


def optimize(callback: OptRunsCallback, student: Any, trainset: list, valset: list, *,
             through_callback: bool = True, **options: Any) -> Any:
    optimizer = dspy.MIPROv2(metric=tracked_metric(dspy.exact_match), auto="light", num_threads=8, **options)
    if through_callback:
        return callback.compile(optimizer, student, trainset=trainset, valset=valset, requires_permission_to_run=False)
    return optimizer.compile(student, trainset=trainset, valset=valset, requires_permission_to_run=False)


@requires_gateway
class DspyAdapterTests(unittest.TestCase):
    def setUp(self) -> None:
        dspy.reset()
        self._saved = adapter._dspy
        adapter._dspy = dspy  # the adapter's DSPy API (dspy.context, dspy.settings) is the stand-in's
        self.tracker = new_tracker(batch_size=500, flush_interval=0.1)

    def tearDown(self) -> None:
        adapter._dspy = self._saved
        dspy.reset()

    def run_one(self, **run_fields: Any) -> Tuple[OptRunsCallback, Any, Dict[str, Any], List[Dict[str, Any]]]:
        callback = OptRunsCallback(self.tracker, dataset_name="standin-qa", tags=["standin"], **run_fields)
        dspy.configure(callbacks=[callback], track_usage=True)
        student, trainset, valset = mipro_setup(self.id().rsplit(".", 1)[-1])
        best = optimize(callback, student, trainset, valset)
        self.assertEqual(len(callback.runs), 1)
        run = callback.runs[0]
        return callback, best, self.tracker.get_run(run.id), self.tracker.iterations(run.id)

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
        # Every evaluated example once, stragglers run twice included; failing programs as failed samples.
        self.assertEqual(data["samplesEvaluated"], 100 + 10 * 35 + 2 * 100)
        self.assertGreater(data["samplesFailed"], 0)
        self.assertGreater(data["promptTokens"], 0)
        baseline = [s for s in support.all_samples(self.tracker, data["id"], iteration=1)]
        self.assertEqual(sorted(s["sampleIndex"] for s in baseline), list(range(100)))
        failed = [s for s in baseline if not s["success"]]
        self.assertEqual(len(failed), 3)
        self.assertIn("raised", failed[0]["error"])
        ok = [s for s in baseline if s["success"]]
        self.assertTrue(all(s["latencyMs"] is not None and s["exampleId"].startswith("ex-") for s in ok))
        self.assertEqual(iterations[0]["candidateProgram"]["predictors"]["0"]["instructions"], "Answer the question.")

    def test_scores_are_fractions_and_the_best_comes_from_full_evaluations_only(self) -> None:
        callback, best, data, iterations = self.run_one()
        compile_ = self._compile_of(callback)
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

    def test_trial_indices_from_trial_logs_are_backfilled(self) -> None:
        callback, best, data, iterations = self.run_one()
        compile_ = self._compile_of(callback)
        logs = best.trial_logs
        for trial, entry in logs.items():
            if "0_predictor_instruction" in entry:
                self.assertEqual(compile_.backfilled[trial]["predictors"]["0"],
                                 {"instruction": entry["0_predictor_instruction"], "demos": entry["0_predictor_demos"]})
        self.assertEqual(compile_.backfilled[1], {"predictors": {"0": {"instruction": 0, "demos": 0}}})
        # Full evaluations take the indices of the minibatch trial whose program they evaluated.
        for trial in (7, 13):
            self.assertIn(trial, compile_.backfilled)
            program = logs[trial]["full_eval_program"]
            matches = [t for t, e in logs.items() if e.get("mb_program") is not None
                       and dspy_signature(e["mb_program"]) == dspy_signature(program)]
            self.assertTrue(matches)
            self.assertEqual(compile_.backfilled[trial], compile_.backfilled[matches[0]])
        self.assertEqual(set(compile_.backfilled), set(range(1, 14)))

    def test_the_service_stores_the_backfilled_indices(self) -> None:
        callback, best, data, iterations = self.run_one()
        compile_ = self._compile_of(callback)
        self.assertNotIn("duplicate", set(compile_.backfill_outcomes.values()))
        for iteration in iterations:
            self.assertEqual(iteration["params"], compile_.backfilled[iteration["iteration"]])

    def test_compile_events_of_later_dspy_nest_the_bootstrap_and_track_plain_compile(self) -> None:
        dspy.COMPILE_EVENTS = True  # DSPy after PR #10120: on_compile_start / on_compile_end exist
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        student, trainset, valset = mipro_setup("events", failing=0)
        optimize(callback, student, trainset, valset, through_callback=False)
        self.assertEqual(len(callback.runs), 1, "the nested BootstrapFewShot compiles are part of the run")
        compile_ = self._compile_of(callback)
        self.assertEqual(compile_.nested, 4)
        self.assertEqual([p for p in compile_.phases if p], ["bootstrapping", "proposing", "searching"])
        data = self.tracker.get_run(callback.runs[0].id)
        self.assertEqual((data["status"], data["samplesEvaluated"]), ("completed", 650))
        # callback.compile on top of DSPy's own events is still one run.
        again = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[again])
        optimize(again, *mipro_setup("events-again", failing=0))
        self.assertEqual(len(again.runs), 1)

    def test_parallel_optimizations_over_the_same_examples_stay_apart(self) -> None:
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        _, trainset, valset = mipro_setup("parallel", failing=0)
        errors: list = []

        def one(seed: int) -> None:
            try:
                optimizer = dspy.MIPROv2(metric=tracked_metric(dspy.exact_match), auto="light", num_threads=4, seed=seed)
                callback.compile(optimizer, dspy.QA(), trainset=trainset, valset=valset, requires_permission_to_run=False)
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

    def test_an_untracked_metric_still_gives_samples_from_the_results(self) -> None:
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        student, trainset, valset = mipro_setup("untracked")
        optimizer = dspy.MIPROv2(metric=dspy.exact_match, auto="light", num_threads=8)
        callback.compile(optimizer, student, trainset=trainset, valset=valset, requires_permission_to_run=False)
        data = self.tracker.get_run(callback.runs[0].id)
        self.assertEqual(data["samplesEvaluated"], 650)
        self.assertGreater(data["samplesFailed"], 0)

    def test_a_compile_that_raises_fails_the_run_with_the_traceback(self) -> None:
        callback = OptRunsCallback(self.tracker)
        dspy.configure(callbacks=[callback])
        student, trainset, valset = mipro_setup("raises")
        optimizer = dspy.MIPROv2(metric=tracked_metric(dspy.exact_match), auto="light")
        optimizer.fail_at_trial = 4
        with self.assertRaises(RuntimeError):
            callback.compile(optimizer, student, trainset=trainset, valset=valset, requires_permission_to_run=False)
        data = self.tracker.get_run(callback.runs[0].id)
        self.assertEqual(data["status"], "failed")
        self.assertIn("stand-in failure in trial 4", data["errorMessage"])
        self.assertIn("_optimize_prompt_parameters", data["errorDetails"]["traceback"])
        self.assertEqual(data["samplesEvaluated"], 100 + 2 * 35)

    @staticmethod
    def _compile_of(callback: OptRunsCallback) -> Any:
        return callback.compiles[-1]


def dspy_signature(program: Any) -> Optional[tuple]:
    return adapter._signature(program)


if __name__ == "__main__":
    unittest.main()
