"""Soak driver for bench/soak.sh: simulator runs plus probes, readers and SSE watchers, figures per minute.

Plays `--sim-runs` concurrent MIPROv2-shaped runs with the simulator (python3 -m optruns.simulate), and beside them:
probe writers that send a 20-sample batch every 200 ms to runs of their own and time each acknowledgement, readers of
the run list and of single runs, and SSE watchers on the probe runs. Every minute it prints p50/p99 acknowledgement
latency, requests, errors (what failed after retrying 503s as the Python client does), the 503s retried and the RSS
of the silo and the gateway; at the end the RSS slope (least squares, MB per
minute), then (--idle-runs) the RSS before and after activating more runs, and one JSON line. Standard library only.
"""
import argparse, json, os, statistics, subprocess, sys, threading, time, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor

def rss_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None

UNAVAILABLE = [0]  # 503 answers retried (by every thread; a rough count is enough)

def request(url, key, method="GET", body=None, timeout=30):
    """One call, retried on 503 after its Retry-After (at most 1 s here) for up to `timeout` s, as the Python client does."""
    data = None if body is None else json.dumps(body).encode()
    deadline = time.monotonic() + timeout
    while True:
        req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            if e.code != 503 or time.monotonic() > deadline:
                raise
            UNAVAILABLE[0] += 1
            time.sleep(min(1.0, float(e.headers.get("Retry-After") or 1)))

def run_grains(url):
    """The run activations the silo holds (Orleans' own gauge), -1 when unknown."""
    if not url:
        return -1
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            lines = r.read().decode().splitlines()
    except (urllib.error.URLError, OSError):
        return -1
    return int(sum(float(l.rsplit(" ", 1)[1]) for l in lines if l.startswith("orleans_catalog_activations{") and 'grain_type="run"' in l))

def slope(points):
    if len(points) < 2:
        return 0.0
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0

class Minute:
    def __init__(self):
        self.lock = threading.Lock()
        self.acks, self.errors, self.reads = [], 0, 0
    def take(self):
        with self.lock:
            acks, errors, reads = self.acks, self.errors, self.reads
            self.acks, self.errors, self.reads = [], 0, 0
        return acks, errors, reads

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True); p.add_argument("--admin-key", required=True)
    p.add_argument("--minutes", type=float, default=20); p.add_argument("--sim-runs", type=int, default=50)
    p.add_argument("--speed", type=float, default=10); p.add_argument("--probes", type=int, default=4)
    p.add_argument("--readers", type=int, default=2); p.add_argument("--watchers", type=int, default=8)
    p.add_argument("--silo-pid", type=int, required=True); p.add_argument("--gateway-pid", type=int, required=True)
    p.add_argument("--idle-runs", type=int, default=1000); p.add_argument("--left-running", type=int, default=100)
    p.add_argument("--silo-metrics", help="the silo's Prometheus scrape URL: the run grains it holds, per minute")
    p.add_argument("--probe-samples", type=int, default=0,
                   help="a probe completes its run after this many samples and writes a new one (0: one run each for the whole soak)")
    a = p.parse_args()
    api = a.url.rstrip("/")
    status, body = request(f"{api}/api/projects", a.admin_key, "POST", {"name": "soak"})
    project = json.loads(body)["id"]
    key = json.loads(request(f"{api}/api/projects/{project}/api-keys", a.admin_key, "POST", {"name": "soak"})[1])["key"]
    runs = [json.loads(request(f"{api}/api/optimization/runs", key, "POST", {"runName": f"probe {i}", "optimizerType": "miprov2", "config": {}})[1])["id"]
            for i in range(a.probes)]
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "clients", "python"))
    sim = subprocess.Popen([sys.executable, "-m", "optruns.simulate", "--url", api, "--api-key", key, "--runs", str(a.sim_runs * 1000),
                            "--workers", str(a.sim_runs), "--speed", str(a.speed), "--quiet"], env=env,
                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(os.environ.get("SOAK_LOGS", "."), "bench-soak-simulator.log"), "w"))
    minute, stop = Minute(), threading.Event()

    def probe(slot):
        it, i, written = 1, 0, 0
        while not stop.is_set():
            run = runs[slot]
            if a.probe_samples and written >= a.probe_samples:
                # A run of a bounded size, as real runs are: its memory (every sample key it keeps) must come back.
                try:
                    request(f"{api}/api/optimization/runs/{run}", key, "PATCH", {"status": "completed", "finalScore": 1.0})
                    runs[slot] = json.loads(request(f"{api}/api/optimization/runs", key, "POST",
                                                    {"runName": f"probe {slot}", "optimizerType": "miprov2", "config": {}})[1])["id"]
                    it, i, written = 1, 0, 0
                except (urllib.error.URLError, OSError):
                    with minute.lock: minute.errors += 1
                    stop.wait(0.2)
                continue
            batch = {"samples": [{"iteration": it, "sampleIndex": i + k, "score": 1.0, "success": True} for k in range(20)]}
            t = time.monotonic()
            try:
                request(f"{api}/api/optimization/runs/{run}/samples", key, "POST", batch)
                with minute.lock: minute.acks.append((time.monotonic() - t) * 1000)
                i += 20
                written += 20
                if i >= 1000: it, i = it + 1, 0
            except (urllib.error.URLError, OSError):
                with minute.lock: minute.errors += 1
            stop.wait(0.2)

    def reader(n):
        while not stop.is_set():
            for url in (f"{api}/api/optimization/runs?limit=20&sort=-bestScore", f"{api}/api/optimization/runs/{runs[n % len(runs)]}"):
                try:
                    request(url, key)
                    with minute.lock: minute.reads += 1
                except (urllib.error.URLError, OSError):
                    with minute.lock: minute.errors += 1
            stop.wait(0.5)

    def watcher(n):
        while not stop.is_set():
            try:
                req = urllib.request.Request(f"{api}/api/optimization/runs/{runs[n % len(runs)]}/events", headers={"Authorization": f"Bearer {key}"})
                with urllib.request.urlopen(req, timeout=60) as r:
                    for _ in r:
                        if stop.is_set(): return
            except (urllib.error.URLError, OSError):
                if not stop.is_set(): stop.wait(1)

    threads = [threading.Thread(target=probe, args=(slot,), daemon=True) for slot in range(len(runs))]
    threads += [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(a.readers)]
    threads += [threading.Thread(target=watcher, args=(n,), daemon=True) for n in range(a.watchers)]
    for t in threads: t.start()
    start, rows, silo_points, gateway_points = time.monotonic(), [], [], []
    print("minute  acks  p50_ms  p99_ms  reads  errors  retried_503  run_grains  silo_rss_mb  gateway_rss_mb", flush=True)
    for m in range(1, int(a.minutes) + 1):
        time.sleep(max(0, start + 60 * m - time.monotonic()))
        acks, errors, reads = minute.take()
        unavailable, UNAVAILABLE[0] = UNAVAILABLE[0], 0
        acks.sort()
        p50 = acks[len(acks) // 2] if acks else float("nan")
        p99 = acks[min(len(acks) - 1, int(len(acks) * 0.99))] if acks else float("nan")
        silo, gateway = rss_mb(a.silo_pid), rss_mb(a.gateway_pid)
        held = run_grains(a.silo_metrics)
        silo_points.append((m, silo or 0)); gateway_points.append((m, gateway or 0))
        rows.append({"minute": m, "acks": len(acks), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1), "reads": reads, "errors": errors, "retried_503": unavailable,
                     "run_grains": held, "silo_rss_mb": round(silo or 0), "gateway_rss_mb": round(gateway or 0)})
        print(f"{m:6d} {len(acks):5d} {p50:7.1f} {p99:7.1f} {reads:6d} {errors:7d} {unavailable:12d} {held:11d} {silo or 0:12.0f} {gateway or 0:15.0f}", flush=True)
        if sim.poll() is not None:
            print(f"the simulator exited with {sim.returncode}", flush=True)
    stop.set(); sim.terminate(); sim.wait(30)
    result = {"minutes": len(rows), "sim_runs": a.sim_runs, "silo_rss_slope_mb_per_min": round(slope(silo_points[1:]), 2),
              "gateway_rss_slope_mb_per_min": round(slope(gateway_points[1:]), 2), "errors": sum(r["errors"] for r in rows), "per_minute": rows}
    if a.idle_runs:
        result["idle_runs"] = activate(api, key, a.idle_runs, a.left_running, a.silo_pid)
    print(json.dumps(result), flush=True)

def activate(api, key, count, left_running, silo_pid):
    """With the load stopped: the silo's RSS before and after `count` more run grains are activated (created, one
    20-sample batch, then completed, except `left_running` runs left running and silent), so an active run's memory
    can be read off; soak.sh then watches them go idle and deactivate."""
    time.sleep(15)
    before = rss_mb(silo_pid)
    def one(i):
        run = json.loads(request(f"{api}/api/optimization/runs", key, "POST", {"runName": f"idle {i}", "optimizerType": "miprov2", "config": {}})[1])["id"]
        request(f"{api}/api/optimization/runs/{run}", key, "PATCH", {"status": "running"})
        request(f"{api}/api/optimization/runs/{run}/samples", key, "POST",
                {"samples": [{"iteration": 1, "sampleIndex": k, "score": 0.5, "success": True} for k in range(20)]})
        if i >= left_running:
            request(f"{api}/api/optimization/runs/{run}", key, "PATCH", {"status": "completed", "finalScore": 0.5})
    errors = 0
    with ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(one, i) for i in range(count)]:
            try: f.result()
            except (urllib.error.URLError, OSError): errors += 1
    time.sleep(15)
    after = rss_mb(silo_pid)
    print(f"activated {count} runs ({left_running} left running, {errors} errors): silo RSS {before:.0f} -> {after:.0f} MB, "
          f"{(after - before) * 1024 / count:.1f} KB per active run", flush=True)
    return {"runs": count, "left_running": left_running, "errors": errors, "silo_rss_before_mb": round(before), "silo_rss_after_mb": round(after)}

if __name__ == "__main__":
    main()
