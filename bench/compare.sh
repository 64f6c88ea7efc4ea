#!/usr/bin/env bash
# Comparison benchmark: GET /api/optimization/compare and /compare/examples through the real gateway and silo
# processes, on two runs with full evaluations of 1,000 examples each (bench/compare.py loads them through the API).
# Sets up a database of its own on this checkout's local PostgreSQL, builds Release, starts one silo and one gateway on
# their own ports, runs bench/compare.py, stops everything and drops the database. The last line printed is one JSON
# object (p50/p95/p99 ms per pattern).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/compare.sh [options]

Options for this script:
  --silo-port N          the silo's silo-to-silo port (default 11421)
  --gateway-port N       the silo's Orleans gateway port (default 30410)
  --http-port N          the gateway listens on 127.0.0.1:N (default 8490)
  --keep-database        do not drop the benchmark database at the end (its name is printed)

Options passed to the benchmark (bench/compare.py --help):
  --examples N           examples per full evaluation (default 1000)
  --full-evaluations N   full evaluations per run (default 3)
  --minibatches N        minibatch trials of 35 per run (default 20)
  --without-ids          samples carry no exampleId: pairs are keyed by the MD5 of their inputs
  --requests N           measured requests per pattern, sequential (default 500)
  --warmup N             unmeasured requests per pattern first (default 100)
  --rounds N             the measured requests come in N interleaved rounds (default 5)
  --page-limit N         limit of the examples pages (default 50)
  --seed N               the generator's seed

Environment: OPTRUNS_PG_PORT (default 54329) picks the local PostgreSQL. Logs: .data/logs/bench-compare-{silo,gateway}.log.
Takes about a minute on 2 cores, plus the build.
TXT
}

CONFIGURATION=Release
silo_port=11421
gateway_port=30410
http_port=8490
keep_database=0
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --silo-port) silo_port="${2:?--silo-port needs a value}"; shift 2 ;;
    --gateway-port) gateway_port="${2:?--gateway-port needs a value}"; shift 2 ;;
    --http-port) http_port="${2:?--http-port needs a value}"; shift 2 ;;
    --keep-database) keep_database=1; shift ;;
    --without-ids) passthrough+=("$1"); shift ;;
    --examples|--full-evaluations|--minibatches|--requests|--warmup|--rounds|--page-limit|--seed)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

database="optruns_cbench_$$"
logs="$OPTRUNS_ROOT/.data/logs"
pids=()


cleanup() {
  trap - EXIT
  stop_processes
  if [ "$keep_database" = 0 ]; then drop_database "$database"; else log "kept database $database"; fi
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then stop_local_postgres; fi
}
trap 'exit 130' INT TERM
trap cleanup EXIT

unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
ensure_local_postgres
ensure_database "$database"
export_local_connection_strings "$database"
log "benchmark database: $database on 127.0.0.1:$OPTRUNS_PG_PORT"

for project in src/Silo/OptimizationRuns.Silo.csproj src/Gateway/OptimizationRuns.Gateway.csproj; do
  log "building $project ($CONFIGURATION)"
  dotnet build "$OPTRUNS_ROOT/$project" -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly >&2 || die "build failed: $project"
done
migrate_up "$CONFIGURATION"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$silo_port" "$gateway_port" "$http_port"; do
  port_free "$port" || die "port $port is taken: see --help for the port options"
done

OPTRUNS_ADMIN_KEY="adm_$(random_secret)"
export OPTRUNS_ADMIN_KEY
mkdir -p "$logs"

(
  cd "$OPTRUNS_ROOT"
  export DOTNET_ENVIRONMENT=Production Orleans__SiloPort="$silo_port" Orleans__GatewayPort="$gateway_port"
  exec dotnet "$(silo_dll "$CONFIGURATION")"
) >"$logs/bench-compare-silo.log" 2>&1 &
pids+=($!)
(
  # The gateway holds no database connection: it needs the silo's Orleans gateway and the admin key only.
  unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
  cd "$OPTRUNS_ROOT"
  export DOTNET_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$http_port" Orleans__GatewayPort="$gateway_port"
  exec dotnet "$(gateway_dll "$CONFIGURATION")"
) >"$logs/bench-compare-gateway.log" 2>&1 &
pids+=($!)
log "started the silo (Orleans gateway $gateway_port) and the gateway (127.0.0.1:$http_port)"

for i in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$http_port/health/ready" >/dev/null 2>&1; then break; fi
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "a process exited early: see $logs/bench-compare-*.log"; done
  [ "$i" = 120 ] && die "the gateway is not ready after 60 s: see $logs/bench-compare-*.log"
  sleep 0.5
done
log "silo and gateway ready"

set +e
python3 "$OPTRUNS_ROOT/bench/compare.py" --gateway "http://127.0.0.1:$http_port" "${passthrough[@]}"
status=$?
set -e
[ "$status" = 0 ] || log "the benchmark exited with $status"
exit "$status"
