# Shared by the bench scripts: a database of their own on this checkout's local PostgreSQL ($OPTRUNS_PG_PORT), the
# Release build, and the real silo and gateway processes on free ports. Source it after scripts/lib.sh's variables
# are wanted; it sets CONFIGURATION, logs and pids, and an EXIT trap that stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

CONFIGURATION=Release
logs="$OPTRUNS_ROOT/.data/logs"
pids=()
database=""
bench_databases=()  # the benchmark's own databases (bench_own_database): dropped on exit unless BENCH_KEEP_DATABASE=1
temp_paths=()  # removed on exit

bench_cleanup() {
  trap - EXIT
  stop_processes
  local db
  for db in "${bench_databases[@]}"; do
    if [ "${BENCH_KEEP_DATABASE:-0}" = 1 ]; then log "kept database $db"; else drop_database "$db"; fi
  done
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then stop_local_postgres; fi
  [ ${#temp_paths[@]} = 0 ] || rm -rf "${temp_paths[@]}"
}
trap 'exit 130' INT TERM
trap bench_cleanup EXIT

# bench_own_database NAME: database NAME of the benchmark's own (so it never measures or disturbs someone else's
# rows) on the local PostgreSQL, started when none runs; dropped on exit unless BENCH_KEEP_DATABASE=1. Exports its
# connection strings.
bench_own_database() {
  mkdir -p "$logs"  # the migration step logs there; a fresh clone has no .data yet
  unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
  ensure_local_postgres
  ensure_database "$1"
  bench_databases+=("$1")
  export_local_connection_strings "$1"
  log "benchmark database: $1 on 127.0.0.1:$OPTRUNS_PG_PORT"
}

# bench_database NAME [PROJECT ...]: bench_own_database NAME, the $CONFIGURATION build of the silo, the gateway and
# the benchmark's own PROJECTs (each on its own: the solution file is not needed), and the migrations.
bench_database() {
  database="$1"; shift
  bench_own_database "$database"
  local project
  for project in src/Silo/OptimizationRuns.Silo.csproj src/Gateway/OptimizationRuns.Gateway.csproj "$@"; do
    log "building $project ($CONFIGURATION)"
    dotnet build "$OPTRUNS_ROOT/$project" -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly >&2 || die "build failed: $project"
  done
  migrate_up "$CONFIGURATION"
}

# bench_test_database NAME: for a benchmark that is a test run (bench/faults.sh, bench/dashboard.sh):
# bench_own_database NAME, the whole solution in $CONFIGURATION (the tests too), and the migrations.
bench_test_database() {
  database="$1"
  bench_own_database "$database"
  build_solution "$CONFIGURATION"
  migrate_up "$CONFIGURATION"
}

# bench_require_free_ports PORT ...: dies naming the first port something already listens on.
bench_require_free_ports() {
  local port
  for port in "$@"; do
    ! port_in_use "$port" || die "port $port is taken: see --help for the port options"
  done
}

# bench_new_admin_key: a fresh admin key for the processes started next, exported as OPTRUNS_ADMIN_KEY.
bench_new_admin_key() {
  OPTRUNS_ADMIN_KEY="adm_$(random_secret)"
  export OPTRUNS_ADMIN_KEY
}

# bench_start_silo NAME SILO_PORT ORLEANS_GATEWAY_PORT [KEY=VALUE ...]: a silo with the settings, then those of
# $BENCH_SILO_ENV (which win), log .data/logs/bench-NAME-silo.log. Sets silo_pid.
bench_start_silo() {
  local name=$1 silo_port=$2 orleans_gateway_port=$3; shift 3
  mkdir -p "$logs"
  (
    # Started from the checkout's root, as scripts/run is: that directory is the process's content root.
    cd "$OPTRUNS_ROOT"
    export DOTNET_ENVIRONMENT=Production Orleans__SiloPort="$silo_port" Orleans__GatewayPort="$orleans_gateway_port"
    for kv in "$@" ${BENCH_SILO_ENV:-}; do export "${kv?}"; done
    exec dotnet "$(silo_dll "$CONFIGURATION")"
  ) >"$logs/bench-$name-silo.log" 2>&1 &
  silo_pid=$!; pids+=("$silo_pid")
}

# bench_start_gateway LOG HTTP_PORT ORLEANS_GATEWAY_PORT [KEY=VALUE ...]: a gateway on 127.0.0.1:HTTP_PORT with the
# settings, then those of $BENCH_GATEWAY_ENV (which win), log .data/logs/LOG.log. Sets gateway_pid.
bench_start_gateway() {
  local logname=$1 http_port=$2 orleans_gateway_port=$3; shift 3
  mkdir -p "$logs"
  (
    # The gateway holds no database connection: it needs the silo's Orleans gateway and the admin key only.
    unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
    cd "$OPTRUNS_ROOT"
    export DOTNET_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$http_port" Orleans__GatewayPort="$orleans_gateway_port"
    for kv in "$@" ${BENCH_GATEWAY_ENV:-}; do export "${kv?}"; done
    exec dotnet "$(gateway_dll "$CONFIGURATION")"
  ) >"$logs/$logname.log" 2>&1 &
  gateway_pid=$!; pids+=("$gateway_pid")
}

# bench_wait NAME WHAT COMMAND ...: runs COMMAND every 0.5 s until it succeeds; dies when a process started here has
# exited, or when WHAT has not happened after 120 s, pointing at .data/logs/bench-NAME-*.log.
bench_wait() {
  local name=$1 what=$2 i pid; shift 2
  for i in $(seq 1 240); do
    "$@" >/dev/null 2>&1 && return
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "a process exited early: see $logs/bench-$name-*.log"; done
    [ "$i" = 240 ] && die "$what after 120 s: see $logs/bench-$name-*.log"
    sleep 0.5
  done
}

# bench_wait_ready URL NAME: until URL/health/ready answers (a gateway with a silo behind it).
bench_wait_ready() { bench_wait "$2" "$1 not ready" curl -fsS "$1/health/ready"; }

# bench_wait_listening PORT NAME: until something listens on 127.0.0.1:PORT (a silo's Orleans gateway).
bench_wait_listening() { bench_wait "$2" "nothing listens on 127.0.0.1:$1" port_in_use "$1"; }

# bench_start_system NAME [KEY=VALUE ...] [-- KEY=VALUE ...]: one silo (with the settings before `--`, then
# $BENCH_SILO_ENV) and one gateway (with those after it, then $BENCH_GATEWAY_ENV) on free ports, logs in .data/logs/bench-NAME-{silo,gateway}.log; waits until the
# gateway is ready. Sets url, silo_pid, gateway_pid, postmaster (the PostgreSQL server's pid) and exports
# OPTRUNS_ADMIN_KEY.
bench_start_system() {
  local name="$1"; shift
  local silo_settings=() gateway_settings=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do silo_settings+=("$1"); shift; done
  [ $# = 0 ] || { shift; gateway_settings=("$@"); }
  local silo_port orleans_gateway_port http_port
  read -r silo_port orleans_gateway_port http_port < <(free_ports 3)
  bench_new_admin_key
  bench_start_silo "$name" "$silo_port" "$orleans_gateway_port" "${silo_settings[@]}"
  bench_start_gateway "bench-$name-gateway" "$http_port" "$orleans_gateway_port" "${gateway_settings[@]}"
  url="http://127.0.0.1:$http_port"
  bench_wait_ready "$url" "$name"
  postmaster=$(head -1 "$(pg_home)/data/postmaster.pid" 2>/dev/null || echo 0)
  log "silo and gateway ready on $url"
}
