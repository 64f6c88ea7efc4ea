#!/usr/bin/env bash
# Candidate read benchmark: GET /api/optimization/runs/{runId}/candidates of a heavy MIPROv2 run (50 trials, 4
# predictors, 10 instruction + 10 demo candidates each) through the real gateway and silo processes (Release), on a
# database of its own on this checkout's local PostgreSQL ($OPTRUNS_PG_PORT). Starts one silo and one gateway on free
# ports, runs bench/candidates.py against the gateway, stops both and drops the database. Extra arguments go to
# bench/candidates.py (--requests N, --warmup N). The last line printed is one JSON object. BENCH_KEEP_DATABASE=1 keeps
# the database (its name is printed) to look at the query's plan afterwards.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

case "${1:-}" in
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

CONFIGURATION=Release
database="optruns_cbench_$$"
logs="$OPTRUNS_ROOT/.data/logs"
pids=()

cleanup() {
  trap - EXIT
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${BENCH_KEEP_DATABASE:-0}" = 1 ]; then log "kept database $database"; else drop_database "$database"; fi
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then stop_local_postgres; fi
}
trap 'exit 130' INT TERM
trap cleanup EXIT

unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
ensure_local_postgres
ensure_database "$database"
export_local_connection_strings "$database"
for project in src/Silo/OptimizationRuns.Silo.csproj src/Gateway/OptimizationRuns.Gateway.csproj; do
  log "building $project ($CONFIGURATION)"
  dotnet build "$OPTRUNS_ROOT/$project" -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly >&2 || die "build failed: $project"
done
migrate_up "$CONFIGURATION"

read -r silo_port orleans_gateway_port http_port < <(free_ports 3)
OPTRUNS_ADMIN_KEY="adm_$(random_secret)"
export OPTRUNS_ADMIN_KEY
mkdir -p "$logs"
(
  cd "$OPTRUNS_ROOT"
  export DOTNET_ENVIRONMENT=Production Orleans__SiloPort="$silo_port" Orleans__GatewayPort="$orleans_gateway_port"
  exec dotnet "$(silo_dll "$CONFIGURATION")"
) >"$logs/bench-candidates-silo.log" 2>&1 &
pids+=($!)
(
  unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
  cd "$OPTRUNS_ROOT"
  export DOTNET_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$http_port" Orleans__GatewayPort="$orleans_gateway_port"
  exec dotnet "$(gateway_dll "$CONFIGURATION")"
) >"$logs/bench-candidates-gateway.log" 2>&1 &
pids+=($!)

url="http://127.0.0.1:$http_port"
for i in $(seq 1 120); do
  curl -fsS "$url/health/ready" >/dev/null 2>&1 && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "a process exited early: see $logs/bench-candidates-*.log"; done
  [ "$i" = 120 ] && die "$url not ready after 60 s: see $logs/bench-candidates-*.log"
  sleep 0.5
done
log "silo and gateway ready on $url"
postmaster=$(head -1 "$(pg_home)/data/postmaster.pid" 2>/dev/null || echo 0)
BENCH_PIDS="silo=${pids[0]} gateway=${pids[1]} postgres=$postmaster" \
  python3 "$OPTRUNS_ROOT/bench/candidates.py" "$url" "$OPTRUNS_ADMIN_KEY" "$@"
