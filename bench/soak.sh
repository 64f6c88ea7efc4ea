#!/usr/bin/env bash
# Soak: one silo and one gateway (Release) under 50 concurrent MIPROv2-shaped simulator runs plus probe writers,
# readers of the run list and of single runs, and SSE watchers (bench/soak.py), for --minutes (default 20). Prints
# per-minute p50/p99 acknowledgement latency, requests, errors and the RSS of silo and gateway, then the RSS slope,
# then — with the load stopped — the silo's active run grains and RSS until idle runs deactivate (or --idle-minutes
# passes). Sets up a database of its own on this checkout's local PostgreSQL and drops it at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/soak.sh [options]

  --minutes N         length of the loaded phase (default 20)
  --idle-minutes N    how long to watch the idle silo afterwards (default 22: past the collection age)
  --sim-runs N        concurrent simulator runs (default 50)
  --speed N           the simulator's time compression (default 10)
  --probe-samples N   each probe writer completes its run after N samples and starts another (default 0: one run
                      each for the whole soak, whose kept sample keys then grow for as long as it lasts)
  --silo-port N --gateway-port N --http-port N --prometheus-port N   ports (defaults 11431, 30420, 8500, 9470)
  --keep-database     do not drop the benchmark database at the end

Environment: OPTRUNS_PG_PORT (default 54329); BENCH_SILO_ENV may hold extra KEY=VALUE settings for the silo (e.g.
"GrainCollection__CollectionAge=00:05:00"). Logs: .data/logs/bench-soak-*.log.
TXT
}

minutes=20; idle_minutes=22; sim_runs=50; speed=10; probe_samples=0
silo_port=11431; gateway_port=30420; http_port=8500; prometheus_port=9470
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --minutes) minutes="${2:?}"; shift 2 ;;
    --idle-minutes) idle_minutes="${2:?}"; shift 2 ;;
    --sim-runs) sim_runs="${2:?}"; shift 2 ;;
    --speed) speed="${2:?}"; shift 2 ;;
    --probe-samples) probe_samples="${2:?}"; shift 2 ;;
    --silo-port) silo_port="${2:?}"; shift 2 ;;
    --gateway-port) gateway_port="${2:?}"; shift 2 ;;
    --http-port) http_port="${2:?}"; shift 2 ;;
    --prometheus-port) prometheus_port="${2:?}"; shift 2 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

bench_require_free_ports "$silo_port" "$gateway_port" "$http_port" "$prometheus_port"
bench_database "optruns_soak_$$"
bench_new_admin_key
bench_start_silo soak "$silo_port" "$gateway_port" Telemetry__PrometheusPort="$prometheus_port"
bench_start_gateway bench-soak-gateway "$http_port" "$gateway_port"
bench_wait_ready "http://127.0.0.1:$http_port" soak
log "soak: $sim_runs simulator runs for $minutes min (load average $(cut -d' ' -f1-3 /proc/loadavg))"

SOAK_LOGS="$logs" python3 "$OPTRUNS_ROOT/bench/soak.py" --url "http://127.0.0.1:$http_port" --admin-key "$OPTRUNS_ADMIN_KEY" \
  --minutes "$minutes" --sim-runs "$sim_runs" --speed "$speed" --silo-pid "$silo_pid" --gateway-pid "$gateway_pid" \
  --silo-metrics "http://localhost:$prometheus_port/metrics" --probe-samples "$probe_samples" | tee "$logs/bench-soak.out"

# Idle: the load has stopped; run grains deactivate after Orleans' collection age (15 min by default; the silo
# does not change it) unless something keeps them. The silo's Prometheus listener answers the host name localhost only.
metrics() { curl -fsS "http://localhost:$prometheus_port/metrics" 2>/dev/null; }
active() { metrics | awk '/^optruns_runs_active[{ ]/ { n += $NF } END { print n + 0 }'; }
# Orleans' own count of run activations: the truth the gauge above must match.
held() { metrics | awk '/^orleans_catalog_activations[{].*grain_type="run"/ { n += $NF } END { print n + 0 }'; }
heap() { metrics | awk '/^(dotnet_gc_last_collection_heap_size_bytes|process_runtime_dotnet_gc_heap_size_bytes)[{ ]/ { n += $NF } END { printf "%d", n / 1048576 }'; }
rss() { awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }
# A full blocking GC of the silo, when dotnet-gcdump is installed (collecting a heap dump induces one).
gcdump=$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")
full_gc() {
  [ -x "$gcdump" ] || return 0
  "$gcdump" collect -p "$silo_pid" -o "$logs/bench-soak-silo.gcdump" >/dev/null 2>&1 || true
  rm -f "$logs/bench-soak-silo.gcdump"
}
row() { printf '%6d %12s %12s %12s %13s %15s\n' "$1" "$(active)" "$(held)" "$(rss "$silo_pid")" "$(heap)" "$(rss "$gateway_pid")"; }
log "idle: active run grains and RSS every 60 s for $idle_minutes min (full GC of the silo at the start and the end: ${gcdump##*/})"
echo "idle_s  active_runs  run_grains  silo_rss_mb  silo_heap_mb  gateway_rss_mb"
full_gc; row 0
for s in $(seq 60 60 $(( idle_minutes * 60 ))); do
  sleep 60
  row "$s"
done
full_gc; echo "after a full GC:"; row $(( idle_minutes * 60 ))
