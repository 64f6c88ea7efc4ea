#!/usr/bin/env bash
# Query benchmark: every read pattern of the REST contract through the real gateway and silo processes, on a data
# set of 10,000 runs / 100,000 iterations / 1,000,000 samples over 5 projects, and the same reads one layer down
# at a time (Orleans client → grains; the silo's data classes in-process; plain SQL as the owner). Sets up a
# database of its own on this checkout's local PostgreSQL, builds Release, starts one silo and two gateways (one
# as shipped, one with Logging__LogLevel__Default=Warning) on their own ports, runs bench/Queries, stops
# everything and drops the database. The last line printed is one JSON object (p50/p95/p99 ms per pattern).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

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

CONFIGURATION=Release
silo_port=11411
gateway_port=30400
http_port=8480
quiet_http_port=8481
keep_database=0
database=""
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --silo-port) silo_port="${2:?--silo-port needs a value}"; shift 2 ;;
    --gateway-port) gateway_port="${2:?--gateway-port needs a value}"; shift 2 ;;
    --http-port) http_port="${2:?--http-port needs a value}"; shift 2 ;;
    --quiet-http-port) quiet_http_port="${2:?--quiet-http-port needs a value}"; shift 2 ;;
    --keep-database) keep_database=1; shift ;;
    --database) database="${2:?--database needs a value}"; keep_database=1; shift 2 ;;
    --skip-load) passthrough+=("$1"); shift ;;
    --scale|--projects|--requests|--warmup|--rounds|--concurrency|--concurrent-requests|--refresh-reads|--seed)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

database="${database:-optruns_qbench_$$}"
logs="$OPTRUNS_ROOT/.data/logs"
result_file=$(mktemp)
pids=()


cleanup() {
  trap - EXIT
  stop_processes
  if [ "$keep_database" = 0 ]; then drop_database "$database"; else log "kept database $database"; fi
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then stop_local_postgres; fi
  rm -f "$result_file"
}
trap 'exit 130' INT TERM
trap cleanup EXIT

# The benchmark owns its database, so it never measures or disturbs someone else's rows.
unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
ensure_local_postgres
ensure_database "$database"
export_local_connection_strings "$database"
log "benchmark database: $database on 127.0.0.1:$OPTRUNS_PG_PORT"

# The silo, the gateway and the benchmark, each built on its own (the solution file is not needed).
for project in src/Silo/OptimizationRuns.Silo.csproj src/Gateway/OptimizationRuns.Gateway.csproj \
               bench/Queries/OptimizationRuns.Bench.Queries.csproj; do
  log "building $project ($CONFIGURATION)"
  dotnet build "$OPTRUNS_ROOT/$project" -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly >&2 || die "build failed: $project"
done
migrate_up "$CONFIGURATION"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$silo_port" "$gateway_port" "$http_port" $([ "$quiet_http_port" = 0 ] || echo "$quiet_http_port"); do
  port_free "$port" || die "port $port is taken: see --help for the port options"
done

OPTRUNS_ADMIN_KEY="adm_$(random_secret)"
export OPTRUNS_ADMIN_KEY
mkdir -p "$logs"

log "starting the silo (Orleans gateway 127.0.0.1:$gateway_port, log $logs/bench-queries-silo.log)"
(
  # Started from the checkout's root, as scripts/run is: that directory is the process's content root.
  cd "$OPTRUNS_ROOT"
  export DOTNET_ENVIRONMENT=Production Orleans__SiloPort="$silo_port" Orleans__GatewayPort="$gateway_port"
  for kv in ${BENCH_SILO_ENV:-}; do export "${kv?}"; done
  exec dotnet "$(silo_dll "$CONFIGURATION")"
) >"$logs/bench-queries-silo.log" 2>&1 &
pids+=($!)
silo_pid=$!

# $1 port, $2 log file, then extra KEY=VALUE settings.
start_gateway() {
  local port=$1 logfile=$2; shift 2
  (
    # The gateway holds no database connection: it needs the silo's Orleans gateway and the admin key only.
    unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
    cd "$OPTRUNS_ROOT"
    export DOTNET_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" Orleans__GatewayPort="$gateway_port"
    for kv in ${BENCH_GATEWAY_ENV:-} "$@"; do export "${kv?}"; done
    exec dotnet "$(gateway_dll "$CONFIGURATION")"
  ) >"$logfile" 2>&1 &
  pids+=($!)
}

start_gateway "$http_port" "$logs/bench-queries-gateway.log"
gateway_pid=${pids[-1]}
log "started the gateway as shipped on 127.0.0.1:$http_port (log $logs/bench-queries-gateway.log)"
quiet_gateway_pid=""
if [ "$quiet_http_port" != 0 ]; then
  start_gateway "$quiet_http_port" "$logs/bench-queries-gateway-warning.log" Logging__LogLevel__Default=Warning
  quiet_gateway_pid=${pids[-1]}
  log "started the gateway with Logging__LogLevel__Default=Warning on 127.0.0.1:$quiet_http_port"
fi

wait_ready() {
  local url=$1
  for i in $(seq 1 120); do
    if curl -fsS "$url/health/ready" >/dev/null 2>&1; then return; fi
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "a process exited early: see $logs/bench-queries-*.log"; done
    [ "$i" = 120 ] && die "$url not ready after 60 s: see $logs/bench-queries-*.log"
    sleep 0.5
  done
}
wait_ready "http://127.0.0.1:$http_port"
[ "$quiet_http_port" = 0 ] || wait_ready "http://127.0.0.1:$quiet_http_port"
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
cleanup
[ -n "$result" ] || die "no result"
# The last line: the figures as one JSON object.
printf '%s\n' "$result"
exit "$status"
