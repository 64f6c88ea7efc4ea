# Shared by the bench scripts: a database of their own on this checkout's local PostgreSQL ($OPTRUNS_PG_PORT), the
# Release build, and the real silo and gateway processes on free ports. Source it after scripts/lib.sh's variables
# are wanted; it sets CONFIGURATION, logs and pids, and an EXIT trap that stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

CONFIGURATION=Release
logs="$OPTRUNS_ROOT/.data/logs"
pids=()
database=""

bench_cleanup() {
  trap - EXIT
  stop_processes
  if [ -n "$database" ]; then
    if [ "${BENCH_KEEP_DATABASE:-0}" = 1 ]; then log "kept database $database"; else drop_database "$database"; fi
  fi
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then stop_local_postgres; fi
}
trap 'exit 130' INT TERM
trap bench_cleanup EXIT

# bench_database NAME: database NAME of the benchmark's own (so it never measures or disturbs someone else's rows),
# the Release build and the migrations; exports the connection strings.
bench_database() {
  database="$1"
  mkdir -p "$logs"  # the migration step logs there; a fresh clone has no .data yet
  unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
  ensure_local_postgres
  ensure_database "$database"
  export_local_connection_strings "$database"
  log "benchmark database: $database on 127.0.0.1:$OPTRUNS_PG_PORT"
  local project
  for project in src/Silo/OptimizationRuns.Silo.csproj src/Gateway/OptimizationRuns.Gateway.csproj; do
    log "building $project ($CONFIGURATION)"
    dotnet build "$OPTRUNS_ROOT/$project" -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly >&2 || die "build failed: $project"
  done
  migrate_up "$CONFIGURATION"
}

# bench_start_system NAME [KEY=VALUE ...] [-- KEY=VALUE ...]: one silo (with the settings before `--`) and one
# gateway (with those after it) on free ports, logs in .data/logs/bench-NAME-{silo,gateway}.log; waits until the
# gateway is ready. Sets url, silo_pid, gateway_pid, postmaster (the PostgreSQL server's pid) and exports
# OPTRUNS_ADMIN_KEY.
bench_start_system() {
  local name="$1"; shift
  local silo_settings=() gateway_settings=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do silo_settings+=("$1"); shift; done
  [ $# = 0 ] || { shift; gateway_settings=("$@"); }
  local silo_port orleans_gateway_port http_port i pid
  read -r silo_port orleans_gateway_port http_port < <(free_ports 3)
  OPTRUNS_ADMIN_KEY="adm_$(random_secret)"
  export OPTRUNS_ADMIN_KEY
  mkdir -p "$logs"
  (
    cd "$OPTRUNS_ROOT"
    export DOTNET_ENVIRONMENT=Production Orleans__SiloPort="$silo_port" Orleans__GatewayPort="$orleans_gateway_port"
    for kv in "${silo_settings[@]}"; do export "${kv?}"; done
    exec dotnet "$(silo_dll "$CONFIGURATION")"
  ) >"$logs/bench-$name-silo.log" 2>&1 &
  silo_pid=$!; pids+=("$silo_pid")
  (
    # The gateway holds no database connection: it needs the silo's Orleans gateway and the admin key only.
    unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
    cd "$OPTRUNS_ROOT"
    export DOTNET_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$http_port" Orleans__GatewayPort="$orleans_gateway_port"
    for kv in "${gateway_settings[@]}"; do export "${kv?}"; done
    exec dotnet "$(gateway_dll "$CONFIGURATION")"
  ) >"$logs/bench-$name-gateway.log" 2>&1 &
  gateway_pid=$!; pids+=("$gateway_pid")
  url="http://127.0.0.1:$http_port"
  for i in $(seq 1 240); do
    curl -fsS "$url/health/ready" >/dev/null 2>&1 && break
    for pid in "$silo_pid" "$gateway_pid"; do kill -0 "$pid" 2>/dev/null || die "a process exited early: see $logs/bench-$name-*.log"; done
    [ "$i" = 240 ] && die "$url not ready after 120 s: see $logs/bench-$name-*.log"
    sleep 0.5
  done
  postmaster=$(head -1 "$(pg_home)/data/postmaster.pid" 2>/dev/null || echo 0)
  log "silo and gateway ready on $url"
}
