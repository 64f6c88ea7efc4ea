#!/usr/bin/env bash
# Progress benchmark: many optimizer workers reporting progress and heartbeats through the REST gateway (1,000 running
# runs × 8 workers, one report a second each: 8,000 reports/s offered), a sample stream beside them, and a
# Server-Sent Events watcher on every run. Sets up a database of its own on this checkout's local PostgreSQL (as
# bench/ingest.sh does), starts the real silo and gateway binaries on their own ports, runs bench/Progress, then stops
# them and drops the database. The last line printed is one JSON object (per phase: rates, ack percentiles, writes
# per report, CPU ms per 1,000 reports or samples for gateway, silo and PostgreSQL).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/progress.sh [options]

Options for this script:
  --silo-port N         the benchmark silo's silo-to-silo port (default 11311)
  --gateway-port N      the benchmark silo's gateway port (default 30300)
  --http-port N         the benchmark gateway's HTTP port (default 8380)
  --keep-database       do not drop the benchmark database at the end (its name is printed)

Options passed to the load generator (bench/Progress): --runs (1000), --workers-per-run (8), --interval (1 s),
--heartbeat-share (0.5), --sample-runs (20), --samples-per-s (2000), --batch (50), --seconds (30 per phase),
--warmup (5 s), --connections (256). `dotnet bench/Progress/bin/Release/net10.0/OptimizationRuns.Bench.Progress.dll
--help` says more.

Environment: OPTRUNS_PG_PORT (default 54329) picks the local PostgreSQL; BENCH_SILO_ENV and BENCH_GATEWAY_ENV may hold
extra KEY=VALUE settings (e.g. "Runs__ProgressWritePeriod=00:00:02"). Logs go to .data/logs/bench-progress-*.log.
Takes about 3 minutes after the build.
TXT
}

CONFIGURATION=Release
silo_port=11311
gateway_port=30300
http_port=8380
keep_database=0
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --silo-port) silo_port="${2:?--silo-port needs a value}"; shift 2 ;;
    --gateway-port) gateway_port="${2:?--gateway-port needs a value}"; shift 2 ;;
    --http-port) http_port="${2:?--http-port needs a value}"; shift 2 ;;
    --keep-database) keep_database=1; shift ;;
    --runs|--workers-per-run|--interval|--heartbeat-share|--sample-runs|--samples-per-s|--batch|--seconds|--warmup|--connections)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

database="optruns_bench_progress_$$"
logs="$OPTRUNS_ROOT/.data/logs"
result_file=$(mktemp)
silo_pid=""
gateway_pid=""

stop_process() {
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  trap - EXIT
  stop_process "$gateway_pid"; gateway_pid=""
  stop_process "$silo_pid"; silo_pid=""
  if [ "$keep_database" = 0 ]; then drop_database "$database"; fi
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then stop_local_postgres; fi
  rm -f "$result_file"
}
trap 'exit 130' INT TERM
trap cleanup EXIT

unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
ensure_local_postgres
ensure_database "$database"
export_local_connection_strings "$database"
log "benchmark database: $database on 127.0.0.1:$OPTRUNS_PG_PORT"

build_solution "$CONFIGURATION"
migrate_up "$CONFIGURATION"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$silo_port" "$gateway_port" "$http_port"; do
  port_free "$port" || die "port $port is taken: pass --silo-port, --gateway-port or --http-port"
done

mkdir -p "$logs"
log "starting the silo (gateway 127.0.0.1:$gateway_port, log $logs/bench-progress-silo.log)"
(
  export DOTNET_ENVIRONMENT=Production Orleans__SiloPort="$silo_port" Orleans__GatewayPort="$gateway_port"
  for kv in ${BENCH_SILO_ENV:-}; do export "${kv?}"; done
  exec dotnet "$(silo_dll "$CONFIGURATION")"
) >"$logs/bench-progress-silo.log" 2>&1 &
silo_pid=$!

OPTRUNS_ADMIN_KEY="bench_$(random_secret)"
export OPTRUNS_ADMIN_KEY
log "starting the gateway on http://127.0.0.1:$http_port (log $logs/bench-progress-gateway.log)"
(
  export DOTNET_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$http_port" Orleans__GatewayPort="$gateway_port"
  # One project key stands for a thousand runs' workers and watchers: its per-key limits are raised to match.
  export Security__RequestsPerSecond=50000 Security__RequestBurst=50000 Security__EventStreamsPerKey=5000
  for kv in ${BENCH_GATEWAY_ENV:-}; do export "${kv?}"; done
  exec dotnet "$(gateway_dll "$CONFIGURATION")"
) >"$logs/bench-progress-gateway.log" 2>&1 &
gateway_pid=$!
for i in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:$http_port/health/ready" >/dev/null 2>&1; then break; fi
  kill -0 "$silo_pid" 2>/dev/null || { tail -n 30 "$logs/bench-progress-silo.log" >&2; die "the silo exited early"; }
  kill -0 "$gateway_pid" 2>/dev/null || { tail -n 30 "$logs/bench-progress-gateway.log" >&2; die "the gateway exited early"; }
  [ "$i" = 240 ] && die "the gateway was not ready within 120 s"
  sleep 0.5
done
log "silo and gateway ready; load average $(cut -d' ' -f1-3 /proc/loadavg)"

bench_dll="$OPTRUNS_ROOT/bench/Progress/bin/$CONFIGURATION/net10.0/OptimizationRuns.Bench.Progress.dll"
set +e
dotnet "$bench_dll" --http-url "http://127.0.0.1:$http_port" --silo-pid "$silo_pid" --gateway-pid "$gateway_pid" \
  --result-file "$result_file" "${passthrough[@]}"
status=$?
set -e
[ "$status" = 0 ] || log "the load generator exited with $status"

result=$(cat "$result_file" 2>/dev/null || true)
cleanup
[ -n "$result" ] || die "no result"
printf '%s\n' "$result"
exit "$status"
