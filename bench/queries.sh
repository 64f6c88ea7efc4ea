#!/usr/bin/env bash
# Query benchmark: every read pattern of the REST contract through the real gateway and silo processes, on a data
# set of 10,000 runs / 100,000 iterations / 1,000,000 samples over 5 projects, and the same reads one layer down
# at a time (Orleans client → grains; the silo's data classes in-process; plain SQL as the owner). Sets up a
# database of its own on this checkout's local PostgreSQL, builds Release, starts one silo and two gateways (one
# as shipped, one with Logging__LogLevel__Default=Warning) on their own ports, runs bench/Queries, stops
# everything and drops the database. The last line printed is one JSON object (p50/p95/p99 ms per pattern).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/queries.sh [options]

Options for this script:
  --silo-port N          the silo's silo-to-silo port (default 11411)
  --gateway-port N       the silo's Orleans gateway port (default 30400)
  --http-port N          the gateway as shipped listens on 127.0.0.1:N (default 8480)
  --quiet-http-port N    the gateway with Logging__LogLevel__Default=Warning (default 8481; 0: don't start it)
  --keep-database        do not drop the benchmark database at the end (its name is printed)
  --database NAME        use this database (e.g. one kept earlier) instead of a new optruns_qbench_<pid>;
                         combine with --skip-load to measure again without loading again

Options passed to the benchmark (bench/Queries):
  --scale F              data size: F × (10,000 runs, 100,000 iterations, 1,000,000 samples) (default 1.0; 0.1: quick)
  --projects N           projects the runs are spread over (default 5)
  --requests N           measured requests per pattern and layer, sequential (default 300)
  --warmup N             unmeasured requests per pattern and layer first (default 400: ~35 s, the JIT's warm-up)
  --rounds N             the measured requests come in N interleaved rounds (default 5)
  --concurrency N        then a throughput pass with N concurrent HTTP clients (default 8; 0: none)
  --concurrent-requests N  requests per pattern in that pass (default 800)
  --refresh-reads N      then N reads per pattern while the analytics view refreshes back to back, and N without
                         (default 50; 0: skip)
  --seed N               the generator's seed (default 20261126)
  --skip-load            the database already holds a data set

Environment: OPTRUNS_PG_PORT (default 54329) picks the local PostgreSQL; BENCH_SILO_ENV and BENCH_GATEWAY_ENV may
hold extra KEY=VALUE settings for the silo and both gateways. Logs: .data/logs/bench-queries-{silo,gateway,
gateway-warning}.log. Takes about 2.5 minutes at --scale 1 on 2 cores (the load ~35 s), plus the build. At --scale 10
(10 M samples, 8.6 GB) the load took 32 minutes at a load average of 50–97 (BENCHMARKS.md, "100× the seed's data"):
keep it with --keep-database and measure again with --database NAME --skip-load.
TXT
}

silo_port=11411
gateway_port=30400
http_port=8480
quiet_http_port=8481
database_name=""
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --silo-port) silo_port="${2:?--silo-port needs a value}"; shift 2 ;;
    --gateway-port) gateway_port="${2:?--gateway-port needs a value}"; shift 2 ;;
    --http-port) http_port="${2:?--http-port needs a value}"; shift 2 ;;
    --quiet-http-port) quiet_http_port="${2:?--quiet-http-port needs a value}"; shift 2 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    --database) database_name="${2:?--database needs a value}"; BENCH_KEEP_DATABASE=1; shift 2 ;;
    --skip-load) passthrough+=("$1"); shift ;;
    --scale|--projects|--requests|--warmup|--rounds|--concurrency|--concurrent-requests|--refresh-reads|--seed)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

bench_require_free_ports "$silo_port" "$gateway_port" "$http_port" $([ "$quiet_http_port" = 0 ] || echo "$quiet_http_port")
result_file=$(mktemp)
temp_paths+=("$result_file")
bench_database "${database_name:-optruns_qbench_$$}" bench/Queries/OptimizationRuns.Bench.Queries.csproj

bench_new_admin_key
log "starting the silo (Orleans gateway 127.0.0.1:$gateway_port, log $logs/bench-queries-silo.log)"
bench_start_silo queries "$silo_port" "$gateway_port"
bench_start_gateway bench-queries-gateway "$http_port" "$gateway_port"
log "started the gateway as shipped on 127.0.0.1:$http_port (log $logs/bench-queries-gateway.log)"
quiet_gateway_pid=""
shipped_gateway_pid=$gateway_pid
if [ "$quiet_http_port" != 0 ]; then
  bench_start_gateway bench-queries-gateway-warning "$quiet_http_port" "$gateway_port" Logging__LogLevel__Default=Warning
  quiet_gateway_pid=$gateway_pid
  log "started the gateway with Logging__LogLevel__Default=Warning on 127.0.0.1:$quiet_http_port"
fi
gateway_pid=$shipped_gateway_pid

bench_wait_ready "http://127.0.0.1:$http_port" queries
[ "$quiet_http_port" = 0 ] || bench_wait_ready "http://127.0.0.1:$quiet_http_port" queries
log "silo and gateway(s) ready"

bench_args=(--gateway "http://127.0.0.1:$http_port" --orleans-port "$gateway_port" --result-file "$result_file")
[ "$quiet_http_port" = 0 ] || bench_args+=(--quiet-gateway "http://127.0.0.1:$quiet_http_port")
bench_dll="$OPTRUNS_ROOT/bench/Queries/bin/$CONFIGURATION/net10.0/OptimizationRuns.Bench.Queries.dll"
set +e
BENCH_SILO_PID="$silo_pid" BENCH_GATEWAY_PID="$gateway_pid" BENCH_QUIET_GATEWAY_PID="$quiet_gateway_pid" \
  dotnet "$bench_dll" "${bench_args[@]}" "${passthrough[@]}" | grep --line-buffered -v '^{'
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || log "the benchmark exited with $status"
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || log "process $pid (silo or gateway) stopped during the benchmark: see $logs/bench-queries-*.log"
done

result=$(cat "$result_file" 2>/dev/null || true)
bench_cleanup
[ -n "$result" ] || die "no result"
# The last line: the figures as one JSON object.
printf '%s\n' "$result"
exit "$status"
