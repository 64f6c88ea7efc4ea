"""The client against a real gateway (scripts/test starts one for the test database)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
import threading
import time
import unittest
import uuid

import support
from support import requires_gateway, new_project, new_tracker, wait_for

from optruns import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RunEndedError,
    Tracker,
)

CONFIG = {"auto": "light", "minibatch_size": 35}


@requires_gateway
class BatchingTests(unittest.TestCase):
    def test_samples_are_sent_in_batches_of_the_batch_size(self) -> None:
        tracker = new_tracker(batch_size=250, flush_interval=30.0)
        run = tracker.start_run("batches", "miprov2", CONFIG)
        for i in range(1000):
            run.log_sample(1, score=i % 2)
        # Four full batches go at once, long before the 30 s timer.
        self.assertTrue(wait_for(lambda: run.refresh()["samplesEvaluated"] == 1000, timeout=10))
        # The server commits before the sender thread has read the answer and counted the batch.
        self.assertTrue(wait_for(lambda: run._sender.sent_batches == 4, timeout=5), run._sender.sent_batches)
        run.complete()

    def test_a_partial_batch_is_sent_in_the_background_after_the_flush_interval(self) -> None:
        tracker = new_tracker(batch_size=500, flush_interval=0.2)
        run = tracker.start_run("background", "miprov2", CONFIG)
        for i in range(7):
            run.log_sample(1, score=1.0, latency_ms=10 + i)
        self.assertTrue(wait_for(lambda: run.refresh()["samplesEvaluated"] == 7, timeout=10))
        self.assertTrue(wait_for(lambda: run._sender.sent_batches == 1, timeout=5), run._sender.sent_batches)
        run.complete()

    def test_flush_sends_at_once_and_returns_after_the_acknowledgement(self) -> None:
        tracker = new_tracker(batch_size=500, flush_interval=60.0)
        run = tracker.start_run("flush", "miprov2", CONFIG)
        for i in range(1234):
            run.log_sample(2, score=0.5, prompt_tokens=100, completion_tokens=10, cost_usd=0.0001)
        started = time.monotonic()
        run.flush()
        self.assertLess(time.monotonic() - started, 10)
        data = run.refresh()
        self.assertEqual(data["samplesEvaluated"], 1234)
        self.assertEqual(data["promptTokens"], 123400)
        run.complete()

    def test_sample_indices_follow_call_order_per_iteration_and_respect_given_ones(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("indices", "miprov2", CONFIG)
        self.assertEqual([run.log_sample(1) for _ in range(3)], [0, 1, 2])
        self.assertEqual(run.log_sample(2), 0)
        self.assertEqual(run.log_sample(1, sample_index=10), 10)
        self.assertEqual(run.log_sample(1), 11)
        self.assertEqual(run.log_samples([{"iteration": 3, "score": 1.0}, {"iteration": 3, "score": 0.0}]), [0, 1])
        run.flush()
        self.assertEqual(run.refresh()["samplesEvaluated"], 8)
        run.complete()


@requires_gateway
class RetryTests(unittest.TestCase):
    def test_lost_acknowledgements_are_retried_and_counted_once(self) -> None:
        _, key = new_project()
        proxy = support.LossyProxy(support.URL, path_part="/samples", drop_every=2)
        try:
            tracker = support.keep(Tracker(proxy.url, key, batch_size=100, flush_interval=0.05))
            run = tracker.start_run("lossy", "miprov2", CONFIG)
            for i in range(2000):
                run.log_sample(1 + i // 500, score=(i % 10) / 10)
            run.flush()
            self.assertGreater(proxy.dropped, 5)
            direct = support.keep(Tracker(support.URL, key))
            data = direct.get_run(run.id)
            self.assertEqual(data["samplesEvaluated"], 2000)
            self.assertEqual(len(support.all_samples(direct, run.id)), 2000)
            run.complete()
        finally:
            proxy.close()

    @unittest.skipUnless(support.gateway.restartable, "the tests do not own the gateway (OPTRUNS_TEST_GATEWAY_DLL)")
    def test_writes_across_a_gateway_restart_lose_nothing_and_double_nothing(self) -> None:
        tracker = new_tracker(batch_size=100, flush_interval=0.05, max_queued=300, retry_timeout=120)
        run = tracker.start_run("restart", "miprov2", CONFIG, total_iterations=4)
        per_thread = 1000
        started = threading.Barrier(5)
        done = [threading.Event() for _ in range(4)]
        errors: list = []

        def evaluate(worker: int) -> None:
            try:
                iteration = worker + 1
                started.wait()
                run.log_iteration(iteration, kind="minibatch")
                for i in range(per_thread):
                    run.log_sample(iteration, score=(i % 3) / 2, latency_ms=5)
                    if i % 50 == 0:
                        time.sleep(0.01)
                run.log_iteration(iteration, 0.5, kind="minibatch")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                done[worker].set()

        threads = [threading.Thread(target=evaluate, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        started.wait()
        wait_for(lambda: run._sender._settled >= 400, timeout=20)
        restarted = support.gateway.restart_after(3.0)
        time.sleep(1.5)
        # The gateway is down: the bounded queue is full and the evaluating threads wait on it.
        self.assertLessEqual(run._sender._queue.qsize(), 300)
        self.assertFalse(all(d.is_set() for d in done))
        restarted.join(120)
        for thread in threads:
            thread.join(120)
        self.assertEqual(errors, [])
        run.flush()
        data = run.refresh()
        self.assertEqual(data["samplesEvaluated"], 4 * per_thread)
        self.assertEqual(data["completedIterations"], 4)
        self.assertEqual(len(support.all_samples(tracker, run.id)), 4 * per_thread)
        run.complete(final_score=0.5)
        self.assertEqual(tracker.get_run(run.id)["status"], "completed")


@requires_gateway
class ConcurrencyTests(unittest.TestCase):
    def test_many_threads_log_into_one_run(self) -> None:
        tracker = new_tracker(batch_size=500)
        run = tracker.start_run("threads", "miprov2", CONFIG)
        threads, per_thread = 16, 400
        indices: list = []
        lock = threading.Lock()

        def evaluate() -> None:
            mine = [run.log_sample(1, score=1.0, success=True) for _ in range(per_thread)]
            with lock:
                indices.extend(mine)

        workers = [threading.Thread(target=evaluate) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        run.log_iteration(1, 1.0, kind="full", samples_evaluated=threads * per_thread)
        run.flush()
        self.assertEqual(sorted(indices), list(range(threads * per_thread)))
        self.assertEqual(run.refresh()["samplesEvaluated"], threads * per_thread)
        stored = [s["sampleIndex"] for s in support.all_samples(tracker, run.id, iteration=1)]
        self.assertEqual(sorted(stored), list(range(threads * per_thread)))
        run.complete()

    def test_several_runs_at_once_in_one_process(self) -> None:
        tracker = new_tracker(batch_size=200)
        results: dict = {}

        def optimize(n: int) -> None:
            with tracker.start_run(f"parallel-{n}", "miprov2", CONFIG, percent=True) as run:
                for iteration in range(1, 4):
                    run.log_iteration(iteration, kind="minibatch" if iteration > 1 else "baseline")
                    for i in range(100 * n):
                        run.log_sample(iteration, score=1.0 if i % 4 else 0.0)
                    run.log_iteration(iteration, 40.0 + n + iteration, kind="minibatch" if iteration > 1 else "baseline")
                results[n] = run.id

        workers = [threading.Thread(target=optimize, args=(n,)) for n in range(1, 6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.assertEqual(len(results), 5)
        for n, run_id in results.items():
            data = tracker.get_run(run_id)
            self.assertEqual(data["status"], "completed")
            self.assertEqual(data["samplesEvaluated"], 300 * n)
            self.assertEqual(data["completedIterations"], 3)
            self.assertAlmostEqual(data["baselineScore"], (41.0 + n) / 100)


@requires_gateway
class SampleFilterTests(unittest.TestCase):
    def test_kind_example_and_errors_filters_select_their_samples_across_pages(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("sample filters", "miprov2", CONFIG)
        for iteration, kind in ((1, "baseline"), (2, "minibatch"), (3, "full")):
            run.log_iteration(iteration, 0.5, kind=kind)
            for example in range(4):
                # ex-1 fails with an error, ex-2 fails without one (a wrong answer is no error).
                run.log_sample(iteration, example_id=f"ex-{example}", score=0.0 if example in (1, 2) else 1.0,
                               success=example not in (1, 2), error="timeout" if example == 1 else None)
        run.flush()

        def keys(**query: object) -> list:
            return [(s["iteration"], s["exampleId"]) for s in support.all_samples(tracker, run.id, page_size=1, **query)]

        self.assertEqual(keys(kind="full"), [(3, f"ex-{e}") for e in range(4)])
        self.assertEqual(keys(example_id="ex-1"), [(1, "ex-1"), (2, "ex-1"), (3, "ex-1")])
        self.assertEqual(keys(errors_only=True), [(1, "ex-1"), (2, "ex-1"), (3, "ex-1")])
        self.assertEqual(keys(kind="minibatch", success=False), [(2, "ex-1"), (2, "ex-2")])
        self.assertEqual(keys(kind="baseline", errors_only=True, example_id="ex-1"), [(1, "ex-1")])
        with self.assertRaises(BadRequestError) as caught:
            keys(kind="trial")
        self.assertIn("kind", caught.exception.errors)
        run.complete()


@requires_gateway
class ErrorTests(unittest.TestCase):
    def test_invalid_values_raise_a_bad_request_naming_the_field(self) -> None:
        tracker = new_tracker()
        with self.assertRaises(BadRequestError) as caught:
            tracker.start_run("bad", "miprov2", {"num_trials": 0})
        self.assertEqual(caught.exception.status, 400)
        self.assertIn("config.num_trials", caught.exception.errors)
        self.assertEqual(caught.exception.problem["status"], 400)

    def test_a_wrong_key_is_an_authentication_error(self) -> None:
        with self.assertRaises(AuthenticationError):
            support.keep(Tracker(support.URL, "ork_not-a-key")).start_run("nope", "custom")

    def test_another_projects_run_is_not_found(self) -> None:
        mine, theirs = new_tracker(), new_tracker()
        run = mine.start_run("private", "custom")
        with self.assertRaises(NotFoundError):
            theirs.get_run(run.id)
        with self.assertRaises(NotFoundError):
            theirs.run(run.id).log_iteration(1, 0.5)

    def test_conflicts_and_writes_after_the_end(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("conflicts", "custom")
        self.assertEqual(run.log_iteration(1, 0.4, kind="full"), "inserted")
        self.assertEqual(run.log_iteration(1, 0.4, kind="full"), "duplicate")
        with self.assertRaises(ConflictError) as caught:
            run.log_iteration(1, 0.6, kind="full")
        self.assertIn("cannot change", caught.exception.detail)
        run.complete(final_score=0.4)
        with self.assertRaises(RunEndedError):
            run.log_sample(1, score=1.0)
        with self.assertRaises(ConflictError):
            tracker.run(run.id).log_iteration(2, 0.5)

    def test_a_refused_background_batch_raises_from_flush(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("deleted underneath", "custom")
        tracker.delete_run(run.id)
        run.log_sample(1, score=1.0)
        with self.assertRaises(NotFoundError):
            run.flush()


@requires_gateway
class RunLifeTests(unittest.TestCase):
    def test_an_exception_in_the_block_fails_the_run_with_its_traceback(self) -> None:
        tracker = new_tracker()

        def evaluate_candidate() -> None:
            raise ValueError("the metric exploded")

        with self.assertRaises(ValueError):
            with tracker.start_run("explodes", "miprov2", CONFIG) as run:
                run.log_sample(1, score=1.0)
                evaluate_candidate()
        data = tracker.get_run(run.id)
        self.assertEqual(data["status"], "failed")
        self.assertEqual(data["errorMessage"], "ValueError: the metric exploded")
        self.assertIn("evaluate_candidate", data["errorDetails"]["traceback"])
        self.assertEqual(data["errorDetails"]["type"], "builtins.ValueError")
        self.assertEqual(data["samplesEvaluated"], 1)

    def test_leaving_the_block_completes_the_run_and_interrupting_cancels_it(self) -> None:
        tracker = new_tracker()
        with tracker.start_run("fine", "custom") as run:
            run.log_iteration(1, 0.7, kind="baseline")
        self.assertEqual(tracker.get_run(run.id)["status"], "completed")
        with self.assertRaises(KeyboardInterrupt):
            with tracker.start_run("interrupted", "custom") as interrupted:
                raise KeyboardInterrupt
        self.assertEqual(tracker.get_run(interrupted.id)["status"], "cancelled")

    def test_percentages_are_stored_as_fractions_and_best_comes_from_full_evaluations(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("percent", "miprov2", CONFIG, percent=True, baseline_score=41.0)
        self.assertAlmostEqual(run.data["baselineScore"], 0.41)
        run.log_iteration(1, 41.0, kind="baseline")
        run.log_iteration(2, 70.0, kind="minibatch")
        run.log_iteration(3, 55.0, kind="full")
        data = run.refresh()
        self.assertAlmostEqual(data["bestScore"], 0.55)
        self.assertAlmostEqual(data["bestMinibatchScore"], 0.70)
        self.assertEqual(data["bestIteration"], 3)
        run.complete(final_score=55.0)
        self.assertAlmostEqual(tracker.get_run(run.id)["finalScore"], 0.55)

    def test_a_baseline_completed_without_naming_its_kind_stays_the_baseline(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("baseline", "miprov2", CONFIG)
        run.log_iteration(0, kind="baseline")
        run.log_iteration(0, 0.41)
        data = run.refresh()
        self.assertAlmostEqual(data["bestScore"], 0.41)
        self.assertEqual(data["bestIteration"], 0)
        self.assertEqual(tracker.iterations(run.id)[0]["kind"], "baseline")
        run.complete()

    def test_candidates_are_recorded_once_and_answered_with_their_statistics(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("candidates", "miprov2", CONFIG)
        run.log_iteration(1, 0.5, kind="minibatch", params={"predictors": {"0": {"instruction": 1}}})
        run.log_iteration(2, 0.7, kind="minibatch", params={"predictors": {"0": {"instruction": 1}}})
        texts = [{"predictor": "0", "kind": "instruction", "index": 1, "text": "Answer briefly."},
                 {"predictor": "0", "kind": "demos", "index": 0, "demos": [{"question": "q", "answer": "a"}]}]
        self.assertEqual(run.log_candidates(texts)["inserted"], 2)
        self.assertEqual(run.log_candidates(texts)["duplicates"], 2)
        predictor = run.candidates()["predictors"][0]
        chosen = predictor["instruction"]["candidates"][0]
        self.assertEqual(chosen["text"], "Answer briefly.")
        self.assertEqual(chosen["timesChosen"], 2)
        self.assertAlmostEqual(chosen["minibatch"]["mean"], 0.6)
        run.complete()

    def test_two_runs_compare_per_example(self) -> None:
        tracker = new_tracker()
        runs = []
        for name, scores in (("before", [0.0, 1.0, 0.0]), ("after", [1.0, 1.0, 0.0])):
            run = tracker.start_run(name, "miprov2", CONFIG)
            for i, score in enumerate(scores):
                run.log_sample(1, score=score, example_id=f"ex-{i}", success=True)
            run.flush()
            run.log_iteration(1, sum(scores) / 3, kind="full")
            run.complete()
            runs.append(run)
        answer = tracker.compare(runs[0].id, runs[1].id)
        self.assertEqual((answer["paired"], answer["improved"], answer["unchanged"]), (3, 1, 2))
        self.assertAlmostEqual(answer["meanDelta"], 1 / 3)
        improved = list(tracker.iter_compared_examples(runs[0].id, runs[1].id, bucket="improved"))
        self.assertEqual([e["exampleId"] for e in improved], ["ex-0"])

    def test_trajectory_examples_and_export_of_a_run(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("analysis", "miprov2", CONFIG)
        for iteration, (kind, scores) in enumerate([("baseline", [0.0, 1.0]), ("minibatch", [1.0, 1.0]), ("full", [1.0, 0.0])]):
            for i, score in enumerate(scores):
                run.log_sample(iteration, score=score, example_id=f"ex-{i}")
            run.flush()
            run.log_iteration(iteration, sum(scores) / 2, kind=kind)
        run.complete()
        self.assertEqual([p["bestSoFar"] for p in run.trajectory()], [0.5, 0.5, 0.5])
        hardest = list(run.iter_examples(sort="hardest"))
        self.assertEqual(len(hardest), 2)
        self.assertLessEqual(hardest[0]["meanScore"], hardest[1]["meanScore"])
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "samples.jsonl")
            self.assertGreater(run.export(path), 0)
            with open(path, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
        self.assertEqual(len(rows), 6)

    def test_export_of_candidates_in_both_formats(self) -> None:
        tracker = new_tracker()
        run = tracker.start_run("candidates export", "miprov2", CONFIG)
        run.log_candidates([{"predictor": "0", "kind": "instruction", "index": 0, "text": 'Answer, "briefly".\nStop.'},
                            {"predictor": "0", "kind": "demos", "index": 0, "demos": [{"question": "2+2?", "answer": "4"}]}])
        run.log_iteration(0, 0.5, kind="baseline", params={"predictors": {"0": {"instruction": 0, "demos": 0}}})
        run.complete()
        with tempfile.TemporaryDirectory() as folder:
            jsonl, csv_path = os.path.join(folder, "candidates.jsonl"), os.path.join(folder, "candidates.csv")
            self.assertGreater(run.export(jsonl, what="candidates"), 0)
            self.assertGreater(run.export(csv_path, format="csv", what="candidates"), 0)
            with open(jsonl, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
            with open(csv_path, encoding="utf-8", newline="") as f:
                table = list(csv.DictReader(f))
        self.assertEqual([(r["kind"], r["index"], r["timesChosen"], r["fullMean"]) for r in rows],
                         [("instruction", 0, 1, 0.5), ("demos", 0, 1, 0.5)])
        self.assertEqual(rows[0]["text"], 'Answer, "briefly".\nStop.')
        self.assertEqual(rows[1]["demos"], [{"question": "2+2?", "answer": "4"}])
        self.assertEqual([r["text"] for r in table], ['Answer, "briefly".\nStop.', ""])
        self.assertEqual(json.loads(table[1]["demos"]), [{"question": "2+2?", "answer": "4"}])

    def test_starting_with_the_same_id_is_idempotent(self) -> None:
        tracker = new_tracker()
        run_id = str(uuid.uuid4())
        first = tracker.start_run("same", "custom", run_id=run_id)
        second = tracker.start_run("same", "custom", run_id=run_id)
        self.assertEqual(first.id, second.id)
        # The key is scoped to the project: the run's id derives from it and is the one answered.
        self.assertEqual(tracker.list_runs(q="same")["items"][0]["id"], first.id)

    def test_heartbeats_keep_an_idle_run_alive(self) -> None:
        tracker = new_tracker(heartbeat_interval=0.3)
        run = tracker.start_run("heartbeat", "custom")
        first = run.refresh()["lastHeartbeatAt"]
        self.assertTrue(wait_for(lambda: tracker.get_run(run.id)["lastHeartbeatAt"] != first, timeout=5))
        self.assertEqual(run.refresh()["status"], "running")
        run.complete()


if __name__ == "__main__":
    unittest.main()
