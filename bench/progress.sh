#!/usr/bin/env bash
# Progress benchmark: many optimizer workers reporting progress and heartbeats through the REST gateway (1,000 running
# runs × 8 workers, one report a second each: 8,000 reports/s offered), a sample stream beside them, and a
# Server-Sent Events watcher on every run. Sets up a database of its own on this checkout's local PostgreSQL (as
# bench/ingest.sh does), starts the real silo and gateway binaries on free ports (bench/lib.sh), runs bench/Progress, then stops
# them and drops the database. The last line printed is one JSON object (per phase: rates, ack percentiles, writes
# per report, CPU ms per 1,000 reports or samples for gateway, silo and PostgreSQL).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/progress.sh [options]

Options for this script:
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

passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    --runs|--workers-per-run|--interval|--heartbeat-share|--sample-runs|--samples-per-s|--batch|--seconds|--warmup|--connections)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

result_file=$(mktemp)
temp_paths+=("$result_file")
bench_database "optruns_bench_progress_$$" bench/Progress/OptimizationRuns.Bench.Progress.csproj
# One project key stands for a thousand runs' workers and watchers: its per-key limits are raised to match.
bench_start_system progress -- Security__RequestsPerSecond=50000 Security__RequestBurst=50000 Security__EventStreamsPerKey=5000
log "load average $(cut -d' ' -f1-3 /proc/loadavg)"

bench_dll="$OPTRUNS_ROOT/bench/Progress/bin/$CONFIGURATION/net10.0/OptimizationRuns.Bench.Progress.dll"
set +e
dotnet "$bench_dll" --http-url "$url" --silo-pid "$silo_pid" --gateway-pid "$gateway_pid" \
  --result-file "$result_file" "${passthrough[@]}"
status=$?
set -e
[ "$status" = 0 ] || log "the load generator exited with $status"

result=$(cat "$result_file" 2>/dev/null || true)
[ -n "$result" ] || die "no result"
printf '%s\n' "$result"
exit "$status"
