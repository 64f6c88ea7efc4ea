"""GET /runs/{id}/candidates latency on a heavy MIPROv2 run, through HTTP against a running gateway.

The run: 4 predictors, each with 10 instruction candidates (300-600 characters) and 10 demo sets (4 demos of about
250 bytes), and 50 trials (a baseline, full evaluations every 5th trial, minibatches otherwise) choosing among them.
Sequential requests on one keep-alive connection, interleaved with GETs of the run and of its iterations (the stack's
floor at the moment); prints p50/p95/p99/max in ms and, last, one JSON line.
Standard library only. Usage: python3 bench/candidates.py URL ADMIN_KEY [--requests N] [--warmup N]
"""
import argparse
import http.client
import json
import os
import random
import statistics
import time
import urllib.parse


def cpu_seconds(pid, with_children=False):
    """User + system CPU of a process (with its direct children: PostgreSQL's backends), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")

    def own(p):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks, int(fields[1])
        except (FileNotFoundError, ProcessLookupError):
            return 0.0, 0

    total = own(pid)[0]
    if with_children:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                cpu, parent = own(int(entry))
                if parent == pid:
                    total += cpu
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("admin_key")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = urllib.parse.urlsplit(args.url)
    connection = http.client.HTTPConnection(target.hostname, target.port)

    def call(method, path, key, body=None, expect=(200, 201)):
        headers = {"Authorization": f"Bearer {key}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, payload, headers)
        response = connection.getresponse()
        data = response.read()
        if response.status not in expect:
            raise SystemExit(f"{method} {path}: {response.status} {data[:500]!r}")
        return data

    project = json.loads(call("POST", "/api/projects", args.admin_key, {"name": f"bench-candidates-{rng.random()}"}))
    key = json.loads(call("POST", f"/api/projects/{project['id']}/api-keys", args.admin_key, {"name": "bench"}))["key"]
    run = json.loads(call("POST", "/api/optimization/runs", key,
                          {"runName": "heavy", "optimizerType": "miprov2", "config": {"auto": "heavy"}}))["id"]
    base = f"/api/optimization/runs/{run}"
    call("PATCH", base, key, {"status": "running"})

    predictors = [str(p) for p in range(4)]
    words = "answer the question briefly using only facts from the context and cite the passage you used".split()
    candidates = []
    for p in predictors:
        for i in range(10):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(50, 100)))[: rng.randint(300, 600)]
            candidates.append({"predictor": p, "kind": "instruction", "index": i, "text": text})
            demos = [{"question": " ".join(rng.choice(words) for _ in range(15)),
                      "context": " ".join(rng.choice(words) for _ in range(20)), "answer": rng.choice(words)}
                     for _ in range(4)]
            candidates.append({"predictor": p, "kind": "demos", "index": i, "demos": demos})
    recorded = json.loads(call("POST", f"{base}/candidates", key, {"candidates": candidates}))
    assert recorded == {"accepted": 80, "inserted": 80, "duplicates": 0}, recorded

    for trial in range(50):
        kind = "baseline" if trial == 0 else "full" if trial % 5 == 0 else "minibatch"
        choice = {p: {"instruction": 0 if trial == 0 else rng.randrange(10), "demos": 0 if trial == 0 else rng.randrange(10)}
                  for p in predictors}
        call("POST", f"{base}/iterations", key, {"iteration": trial, "kind": kind, "score": round(rng.uniform(0.3, 0.8), 4),
                                                  "params": {"predictors": choice}})
    call("PATCH", base, key, {"status": "completed", "finalScore": 0.7})

    body = call("GET", f"{base}/candidates", key)
    answer = json.loads(body)
    assert [p["predictor"] for p in answer["predictors"]] == predictors
    for p in answer["predictors"]:
        for kind in ("instruction", "demos"):
            assert len(p[kind]["candidates"]) == 10
            assert sum(c["timesChosen"] for c in p[kind]["candidates"]) == 50

    # The same stack's other reads of this run, interleaved, say what the machine allows at the moment: a GET of
    # the run (from its grain, no database) and of its 50 iterations (one query, like this one).
    patterns = {"candidates": f"{base}/candidates", "iterations": f"{base}/iterations", "run": base}
    for _ in range(args.warmup):
        for path in patterns.values():
            call("GET", path, key)
    times = {name: [] for name in patterns}
    for _ in range(args.requests):
        for name, path in patterns.items():
            started = time.perf_counter()
            call("GET", path, key)
            times[name].append((time.perf_counter() - started) * 1000)

    def pct(values, q):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 2)

    # CPU per request of each process, one pattern at a time (BENCH_PIDS="silo=PID gateway=PID postgres=PID").
    meters = dict(item.split("=") for item in os.environ.get("BENCH_PIDS", "").split())
    cpu = {}
    for name, path in patterns.items():
        before = {m: cpu_seconds(int(p), m == "postgres") for m, p in meters.items()}
        for _ in range(args.requests):
            call("GET", path, key)
        cpu[name] = {m: round((cpu_seconds(int(p), m == "postgres") - before[m]) * 1000 / args.requests, 3) for m, p in meters.items()}

    result = {"requests": args.requests, "candidates_bytes": len(body), "cpu_ms_per_request": cpu}
    for name, values in times.items():
        result[name] = {"p50_ms": pct(values, 0.50), "p95_ms": pct(values, 0.95), "p99_ms": pct(values, 0.99),
                        "max_ms": round(max(values), 2), "mean_ms": round(statistics.mean(values), 2)}
        print(f"GET {patterns[name].replace(run, '{id}')}: {args.requests} requests: p50 {result[name]['p50_ms']} ms, "
              f"p95 {result[name]['p95_ms']} ms, p99 {result[name]['p99_ms']} ms, max {result[name]['max_ms']} ms")
    print(f"(candidates answer: {len(body):,} bytes; 50 trials, 4 predictors, 10 instruction + 10 demo candidates each)")
    for name, per in cpu.items():
        if per:
            print(f"CPU ms per GET {name}: " + ", ".join(f"{m} {v}" for m, v in per.items()))
    print(json.dumps(result))

if __name__ == "__main__":
    main()
