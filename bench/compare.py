#!/usr/bin/env python3
"""Comparison benchmark: GET /api/optimization/compare and /compare/examples through a running gateway.

Loads, through the HTTP API as a worker would, one project with two runs of a heavy MIPROv2 shape: a baseline and
FULL_EVALUATIONS full evaluations of EXAMPLES examples each, and MINIBATCHES minibatch trials of 35. Then measures
sequential requests (one keep-alive connection) per pattern, in interleaved rounds, and prints p50/p95/p99 in milliseconds; the last line is
one JSON object with the figures. Standard library only. bench/compare.sh starts a silo and a gateway for it.
"""
import argparse
import http.client
import json
import os
import random
import statistics
import sys
import time
import urllib.parse
import uuid


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default="http://127.0.0.1:8490", help="the gateway's base URL (default %(default)s)")
    parser.add_argument("--admin-key", default=os.environ.get("OPTRUNS_ADMIN_KEY"),
                        help="the admin key (default: $OPTRUNS_ADMIN_KEY)")
    parser.add_argument("--examples", type=int, default=1000, help="examples per full evaluation (default %(default)s)")
    parser.add_argument("--full-evaluations", type=int, default=3, help="full evaluations per run (default %(default)s)")
    parser.add_argument("--minibatches", type=int, default=20, help="minibatch trials of 35 per run (default %(default)s)")
    parser.add_argument("--without-ids", action="store_true",
                        help="samples carry no exampleId: pairs are keyed by the MD5 of their inputs")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per pattern (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests per pattern first (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="the measured requests come in N interleaved rounds (default %(default)s)")
    parser.add_argument("--page-limit", type=int, default=50, help="limit of the examples pages (default %(default)s)")
    parser.add_argument("--seed", type=int, default=20261126, help="the generator's seed (default %(default)s)")
    args = parser.parse_args()
    if not args.admin_key:
        parser.error("no admin key: pass --admin-key or set OPTRUNS_ADMIN_KEY")
    return args


class Client:
    """One keep-alive HTTP connection with a bearer key."""

    def __init__(self, base, key):
        url = urllib.parse.urlsplit(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
        self.key = key

    def request(self, method, path, body=None, expect=200):
        headers = {"Authorization": f"Bearer {self.key}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, payload, headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status not in ((expect,) if isinstance(expect, int) else expect):
            raise SystemExit(f"{method} {path}: expected {expect}, got {response.status}: {data[:500]!r}")
        return json.loads(data) if data else None


def load(args, client):
    rng = random.Random(args.seed)
    # Each example has a difficulty; a run's later candidates are a little better, so buckets are mixed, as in life.
    difficulty = [rng.random() for _ in range(args.examples)]
    runs = []
    for name, skill in (("bench-before", 0.45), ("bench-after", 0.55)):
        run = client.request("POST", "/api/optimization/runs", {
            "runName": f"{name}-{uuid.uuid4().hex[:8]}", "optimizerType": "miprov2",
            "config": {"auto": "heavy", "num_trials": args.minibatches}}, expect=201)["id"]
        plan = [(0, "baseline", skill - 0.1, args.examples)]
        plan += [(1 + i, "minibatch", skill, 35) for i in range(args.minibatches)]
        plan += [(1 + args.minibatches + i, "full", skill + 0.02 * i, args.examples) for i in range(args.full_evaluations)]
        for iteration, kind, level, count in plan:
            chosen = range(count) if count == args.examples else rng.sample(range(args.examples), count)
            samples = []
            for index, example in enumerate(chosen):
                correct = rng.random() < level + 0.5 * (0.5 - difficulty[example])
                failed = rng.random() < 0.03
                samples.append({
                    "iteration": iteration, "sampleIndex": index,
                    "exampleId": None if args.without_ids else f"hotpotqa-dev-{example:05d}",
                    "inputs": {"question": f"Question {example}: " + "which of the two was founded first? " * 4,
                               "context": "passage " * 30},
                    "expected": {"answer": f"answer {example}"},
                    "prediction": None if failed else {"answer": f"answer {example}" if correct else "something else",
                                                       "reasoning": "Let's think step by step. " * 12},
                    "score": 0.0 if failed or not correct else 1.0, "success": not failed,
                    "error": "LM call timed out" if failed else None, "latencyMs": 400 + rng.random() * 1200,
                    "promptTokens": 900 + rng.randrange(200), "completionTokens": 60 + rng.randrange(80),
                    "costUsd": round(0.0004 + rng.random() * 0.0002, 6), "traceId": uuid.uuid4().hex,
                    "spanId": uuid.uuid4().hex[:16]})
            client.request("POST", f"/api/optimization/runs/{run}/iterations", {"iteration": iteration, "kind": kind}, expect=201)
            for start in range(0, len(samples), 1000):
                client.request("POST", f"/api/optimization/runs/{run}/samples", {"samples": samples[start:start + 1000]})
            score = sum(s["score"] for s in samples) / len(samples)
            client.request("POST", f"/api/optimization/runs/{run}/iterations",
                           {"iteration": iteration, "kind": kind, "score": round(score, 4)})
        runs.append(run)
    return runs


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    args = parse_args()
    admin = Client(args.gateway, args.admin_key)
    project = admin.request("POST", "/api/projects", {"name": f"compare-bench-{uuid.uuid4().hex[:8]}"}, expect=201)
    key = admin.request("POST", f"/api/projects/{project['id']}/api-keys", {"name": "bench"}, expect=201)["key"]
    client = Client(args.gateway, key)

    started = time.perf_counter()
    before, after = load(args, client)
    load_seconds = time.perf_counter() - started
    print(f"loaded 2 runs × (baseline + {args.full_evaluations} full × {args.examples} examples + {args.minibatches} minibatches × 35)"
          f"{' without example ids' if args.without_ids else ''} in {load_seconds:.1f} s", file=sys.stderr)

    summary = client.request("GET", f"/api/optimization/compare?a={before}&b={after}")
    print("compare (default iterations): " + json.dumps({k: summary[k] for k in (
        "paired", "improved", "regressed", "unchanged", "onlyA", "onlyB", "meanDelta", "meanDeltaCi", "mcnemarP")}), file=sys.stderr)
    middle = client.request("GET", f"/api/optimization/compare/examples?a={before}&b={after}&limit={args.examples // 2}")["nextCursor"]
    patterns = {
        "compare: best full vs best full": f"/api/optimization/compare?a={before}&b={after}",
        "compare: one run's baseline vs its best": f"/api/optimization/compare?a={after}&aIteration=0&b={after}",
        "examples: first page, every pair": f"/api/optimization/compare/examples?a={before}&b={after}&limit={args.page_limit}",
        "examples: first page of regressed": f"/api/optimization/compare/examples?a={before}&b={after}&bucket=regressed&limit={args.page_limit}",
        "examples: page after a mid-list cursor": f"/api/optimization/compare/examples?a={before}&b={after}&limit={args.page_limit}&cursor={middle}",
        # The same machine's noise on a plain read of the same rows: a page of one run's samples.
        "reference: a page of samples (GET …/samples)": f"/api/optimization/runs/{before}/samples?limit={args.page_limit}",
    }
    for name, path in patterns.items():
        for _ in range(args.warmup):
            client.request("GET", path)
    # Interleaved rounds, so a burst of load on a shared machine falls on every pattern alike.
    timings = {name: [] for name in patterns}
    for _ in range(args.rounds):
        for name, path in patterns.items():
            for _ in range(args.requests // args.rounds):
                start = time.perf_counter()
                client.request("GET", path)
                timings[name].append((time.perf_counter() - start) * 1000)
    results = {}
    for name, values in timings.items():
        results[name] = {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2),
                         "p99": round(percentile(values, 99), 2), "mean": round(statistics.fmean(values), 2)}
        print(f"{name:45s} p50 {results[name]['p50']:7.2f} ms  p95 {results[name]['p95']:7.2f} ms  p99 {results[name]['p99']:7.2f} ms",
              file=sys.stderr)
    print(json.dumps({"examples": args.examples, "withoutIds": args.without_ids, "requests": args.requests,
                      "pageLimit": args.page_limit, "loadAverage": os.getloadavg()[0], "ms": results}))


if __name__ == "__main__":
    main()
