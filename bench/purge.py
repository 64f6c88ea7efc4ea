"""Retention purge under ingest, for bench/purge.sh: does a purge of ~1 M samples raise concurrent ingest p99?

Loads `--runs` finished runs of `--samples-per-run` samples into an "archive" project through the API and backdates
their end (as the schema owner, with `--psql`), then starts paced writers in a "live" project: each sends a batch of
`--batch` samples every `--interval` seconds on a fixed schedule, latency counted from when the batch was due (a
writer more than a slot behind skips the missed slots), filed under the window it was acknowledged in. After
`--windows-before` windows of `--window` seconds it sets the archive project's retentionDays to 1 (the admin API),
so the retention grain (Retention__Period set short by bench/purge.sh) exports and deletes those runs; windows go on
until the archive is empty, then `--windows-after` more. Every window prints p50/p99 and whether the purge was running;
the silo's RSS is sampled every second. The last line is one JSON object. Standard library only.
"""
import argparse, json, os, statistics, subprocess, sys, threading, time, urllib.error

sys.path.insert(0, os.path.dirname(__file__))
from soak import request, rss_mb  # noqa: E402  (the same HTTP call and RSS reading as the soak)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--admin-key", required=True)
    p.add_argument("--psql", required=True, help="a psql command line connected to the database as its owner")
    p.add_argument("--silo-pid", type=int, required=True)
    p.add_argument("--runs", type=int, default=80, help="archive runs (default 80)")
    p.add_argument("--samples-per-run", type=int, default=12500, help="samples per archive run (default 12,500: 1 M in all)")
    p.add_argument("--writers", type=int, default=4, help="paced writers in the live project (default 4)")
    p.add_argument("--batch", type=int, default=50, help="samples per live batch (default 50)")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between a writer's batches (default 0.1)")
    p.add_argument("--window", type=float, default=15, help="seconds per latency window (default 15)")
    p.add_argument("--windows-before", type=int, default=3)
    p.add_argument("--windows-after", type=int, default=3)
    p.add_argument("--max-purge-minutes", type=float, default=20, help="give up waiting for the purge after this long")
    a = p.parse_args()
    api = a.url.rstrip("/")

    def psql(sql):
        done = subprocess.run(a.psql.split() + ["-X", "-q", "-At", "-c", sql], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def call(url, key, method="GET", body=None, timeout=60):
        """The request, retried while the service answers 503 or 429 (after its Retry-After), as a client would."""
        while True:
            try:
                return request(url, key, method, body, timeout)
            except urllib.error.HTTPError as e:
                if e.code not in (429, 503):
                    raise
                time.sleep(float(e.headers.get("Retry-After") or 1))

    def project(name):
        pid = json.loads(call(f"{api}/api/projects", a.admin_key, "POST", {"name": name})[1])["id"]
        return pid, json.loads(call(f"{api}/api/projects/{pid}/api-keys", a.admin_key, "POST", {"name": name})[1])["key"]

    def new_run(key, name):
        return json.loads(call(f"{api}/api/optimization/runs", key, "POST", {"runName": name, "optimizerType": "miprov2", "config": {}})[1])["id"]

    def sample(iteration, index):
        return {"iteration": iteration, "sampleIndex": index, "exampleId": f"ex-{index % 1000}", "score": (index % 7) / 6,
                "success": index % 13 != 0, "inputs": {"question": f"What is item {index} of the archive?"},
                "prediction": {"answer": f"item {index}"}, "expected": {"answer": f"item {index}"}, "latencyMs": 120 + index % 50}

    # 1. The archive: finished runs, backdated past a one-day limit.
    archive, archive_key = project("purge archive")
    t0 = time.monotonic()
    per_batch = 2500
    lock, loaded = threading.Lock(), [0]

    def load(run_numbers):
        for n in run_numbers:
            run = new_run(archive_key, f"archived {n}")
            for start in range(0, a.samples_per_run, per_batch):
                count = min(per_batch, a.samples_per_run - start)
                rows = [sample(1 + (start + k) // 2500, start + k) for k in range(count)]
                call(f"{api}/api/optimization/runs/{run}/samples", archive_key, "POST", {"samples": rows}, timeout=120)
            call(f"{api}/api/optimization/runs/{run}", archive_key, "PATCH", {"status": "running"})
            call(f"{api}/api/optimization/runs/{run}", archive_key, "PATCH", {"status": "completed", "finalScore": 0.5})
            with lock:
                loaded[0] += 1
                if loaded[0] % 10 == 0 or loaded[0] == a.runs:
                    print(f"loaded {loaded[0]}/{a.runs} archive runs ({loaded[0] * a.samples_per_run:,} samples, "
                          f"{time.monotonic() - t0:.0f} s)", flush=True)
    loaders = [threading.Thread(target=load, args=(range(i, a.runs, 4),)) for i in range(4)]
    for t in loaders: t.start()
    for t in loaders: t.join()
    psql("UPDATE optimization_runs SET created_at = created_at - interval '30 days', start_time = start_time - interval '30 days', "
         f"end_time = end_time - interval '30 days' WHERE project_id = '{archive}'")
    archived_samples = int(psql(f"SELECT count(*) FROM optimization_samples WHERE project_id = '{archive}'"))
    load_seconds = time.monotonic() - t0

    # 2. Paced writers in the live project; each acknowledgement is filed under the window it was due in.
    live, live_key = project("purge live")
    live_runs = [new_run(live_key, f"live {i}") for i in range(a.writers)]
    stop = threading.Event()
    acks, errors, acked = [], [0], [0]
    start_at = time.monotonic() + 1

    def writer(w, run):
        it, i = 1, 0
        due = start_at + w * a.interval / a.writers
        while not stop.is_set():
            delay = due - time.monotonic()
            if delay > 0:
                stop.wait(delay)
            elif -delay > a.interval:
                due = time.monotonic()  # more than a slot behind: skip the missed slots, so latency is per call, not backlog
            rows = [{"iteration": it, "sampleIndex": i + k, "score": 1.0, "success": True, "exampleId": f"live-{i + k}"} for k in range(a.batch)]
            try:
                call(f"{api}/api/optimization/runs/{run}/samples", live_key, "POST", {"samples": rows})
                done = time.monotonic()
                with lock:
                    acks.append((done, (done - due) * 1000)); acked[0] += a.batch
            except (urllib.error.URLError, OSError):
                with lock: errors[0] += 1
            i += a.batch
            if i >= 5000: it, i = it + 1, 0
            due += a.interval
    writers = [threading.Thread(target=writer, args=(w, r), daemon=True) for w, r in enumerate(live_runs)]
    for t in writers: t.start()

    rss = []  # (t, MB)
    def sampler():
        while not stop.is_set():
            rss.append((time.monotonic(), rss_mb(a.silo_pid) or 0)); stop.wait(1)
    threading.Thread(target=sampler, daemon=True).start()

    windows = []
    print("window  state    acks  p50_ms  p99_ms  archive_runs_left  silo_rss_mb", flush=True)

    def window(state):
        begin = start_at + len(windows) * a.window
        end = begin + a.window
        while time.monotonic() < end:
            time.sleep(min(1, max(0, end - time.monotonic())))
        left = int(psql(f"SELECT count(*) FROM optimization_runs WHERE project_id = '{archive}'"))
        with lock:
            lat = [ms for done, ms in acks if begin <= done < end]
        row = {"window": len(windows) + 1, "state": state, "acks": len(lat), "p50_ms": round(percentile(lat, 0.5), 1) if lat else None,
               "p99_ms": round(percentile(lat, 0.99), 1) if lat else None, "archive_runs_left": left, "silo_rss_mb": round(rss[-1][1]) if rss else 0}
        windows.append(row)
        print(f"{row['window']:6d}  {state:7s} {row['acks']:5d} {row['p50_ms'] or 0:7.1f} {row['p99_ms'] or 0:7.1f} {left:18d} {row['silo_rss_mb']:12d}", flush=True)
        return left

    for _ in range(a.windows_before):
        window("before")
    rss_before = statistics.median(mb for _, mb in rss)
    call(f"{api}/api/projects/{archive}/retention", a.admin_key, "PUT", {"retentionDays": 1})
    purge_started = time.monotonic()
    deadline = purge_started + 60 * a.max_purge_minutes
    while time.monotonic() < deadline:
        if window("purging") == 0:
            break
    purge_ended = time.monotonic()
    rss_purge_max = max(mb for t, mb in rss if t >= purge_started)
    for _ in range(a.windows_after):
        window("after")
    stop.set()
    for t in writers: t.join(10)

    stored = int(psql(f"SELECT count(*) FROM optimization_samples WHERE project_id = '{live}'"))
    left = windows[-1]["archive_runs_left"]
    # Windows with acknowledgements only; the last purging one ends when the archive is found empty.
    during = [w["p99_ms"] for w in windows if w["state"] == "purging" and w["acks"]]
    without = [w["p99_ms"] for w in windows if w["state"] != "purging" and w["acks"]]
    p99_without = round(statistics.median(without), 1) if without else None
    p99_during = round(statistics.median(during), 1) if during else None
    result = {
        "archive_runs": a.runs, "archived_samples": archived_samples, "load_s": round(load_seconds),
        "purge_s": round(purge_ended - purge_started), "purged_samples_per_s": round(archived_samples / max(1e-9, purge_ended - purge_started)),
        "archive_runs_left": left, "live_offered_per_s": round(a.writers * a.batch / a.interval),
        "p99_ms_without_purge": p99_without, "p99_ms_during_purge": p99_during,
        "p99_increase": round(p99_during / p99_without - 1, 3) if p99_during and p99_without else None,
        "silo_rss_mb_before": round(rss_before), "silo_rss_mb_max_during_purge": round(rss_purge_max),
        "errors": errors[0], "live_acknowledged": acked[0], "live_stored": stored, "lost": max(0, acked[0] - stored),
        "windows": windows,
    }
    print(f"""
summary: {archived_samples:,} archived samples in {a.runs} runs (loaded in {load_seconds:.0f} s) purged in {result['purge_s']} s
  ({result['purged_samples_per_s']:,} samples/s, {left} runs left) while {result['live_offered_per_s']:,} samples/s were offered to live runs
  live ack p99: {p99_without or 0:.1f} ms without the purge (median of {len(without)} windows), {p99_during or 0:.1f} ms during it (median of {len(during)})
  → {'+' if (result['p99_increase'] or 0) >= 0 else ''}{(result['p99_increase'] or 0) * 100:.0f} % (target ≤ +20 %)
  silo RSS {rss_before:.0f} MB before, at most {rss_purge_max:.0f} MB during the purge
  live samples acknowledged {acked[0]:,}, stored {stored:,}, errors {errors[0]}""", flush=True)
    print(json.dumps(result), flush=True)
    return 0 if left == 0 and stored >= acked[0] else 1


if __name__ == "__main__":
    sys.exit(main())
