# Shared by scripts/run, scripts/test and bench/*.sh: a local PostgreSQL for this checkout, its
# roles, databases and migrations. Source it; it defines functions and changes nothing by itself.
#
# The local server keeps its data under .data/postgres (git-ignored), listens on 127.0.0.1 only,
# and has two login roles:
#   optruns_owner    owns the schema and applies migrations (the admin path; bypasses RLS as owner)
#   optruns_service  what the silo connects as: owns nothing, so row-level security applies to it
# Their generated passwords live in .data/postgres/credentials.env (mode 600), never in git.

OPTRUNS_ROOT="${OPTRUNS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# Given, a busy port is an error; not given, the checkout's server keeps the port it was first given (remembered
# beside its data), 54329 when free.
OPTRUNS_PG_PORT_GIVEN="${OPTRUNS_PG_PORT:+1}"
OPTRUNS_PG_PORT="${OPTRUNS_PG_PORT:-54329}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# True when something listens on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# $1 when nothing listens there, else a free port picked at random.
pick_port() {
  local port="$1"
  if port_in_use "$port"; then port=$(free_ports 1); fi
  printf '%s' "$port"
}

# $1 (default 1) distinct free ports on one line: all are bound at once before any is released, so two picks
# never return the same port (separate picks once gave a silo and a gateway the same one). They come from below
# the OS's ephemeral range, which outgoing connections take source ports from: a process that binds its port only
# after waiting for something (a silo for its database) could find an ephemeral one taken.
free_ports() {
  python3 -c 'import random, socket, sys
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
socks, tries = [], 0
while len(socks) < int(sys.argv[1]):
    s, tries = socket.socket(), tries + 1
    try:  # port 0 (any) when the range starts at 20000 or below, or nothing below it was free in 1,000 tries
        s.bind(("127.0.0.1", random.randrange(20000, low) if low > 20000 and tries <= 1000 else 0))
        socks.append(s)
    except OSError:
        s.close()
print(" ".join(str(s.getsockname()[1]) for s in socks))' "${1:-1}"
}

# Runs "$@" (a long step: restore, build, migrate) with its output in a log, printing the elapsed time every
# 15 s and when it ends; on failure, the end of the log. $1 says what the step is, $2 is the log.
timed_step() {
  local what="$1" step_log="$2" started=$SECONDS pid status
  shift 2
  log "$what…"
  mkdir -p "$(dirname "$step_log")"  # a fresh clone has no .data yet
  "$@" >"$step_log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then log "  still $what ($((SECONDS - started)) s)"; fi
  done
  status=0; wait "$pid" || status=$?
  if [ "$status" != 0 ]; then tail -n 30 "$step_log" >&2; die "$what failed after $((SECONDS - started)) s (whole output: $step_log)"; fi
  log "$what: done in $((SECONDS - started)) s"
}

# Root on a checkout that a normal user owns runs the calling script as that user (after installing what needs
# root): files root made there (build outputs, logs, the database's files) would lock the owner out of their
# checkout. A normal user finding files of someone else's in the checkout is told how to take it back.
run_as_checkout_owner() {
  local owner home foreign
  owner=$(stat -c %U "$OPTRUNS_ROOT")
  if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then
    [ -n "${ConnectionStrings__Postgres:-}${ConnectionStrings__PostgresOwner:-}" ] || ensure_postgres_installed
    home=$(getent passwd "$owner" | cut -d: -f6)
    log "this checkout belongs to $owner: running as $owner"
    exec runuser -u "$owner" -- env PATH="$PATH" HOME="$home" USER="$owner" bash "$0" "$@"
  fi
  if [ "$(id -u)" != 0 ]; then
    foreign=$(find "$OPTRUNS_ROOT" -path "$OPTRUNS_ROOT/.git" -prune -o ! -user "$(id -u)" -print -quit 2>/dev/null)
    [ -z "$foreign" ] || die "$foreign belongs to $(stat -c %U "$foreign"), not to $(id -un): run this as $owner, or take the checkout back with: sudo chown -R $(id -un): $OPTRUNS_ROOT"
  fi
}

# Runs a command as the OS user that owns the server: PostgreSQL refuses to run as root.
as_pg_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] && command -v pg_ctl >/dev/null 2>&1; then dir=$(dirname "$(readlink -f "$(command -v pg_ctl)")"); fi
  printf '%s' "$dir"
}

# Installs Debian packages: as root directly, else through sudo. $1 says what to do when that fails.
apt_install() {
  local hint="$1" sudo=""; shift
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2 || die "could not install $*; $hint"
}

ensure_postgres_installed() {
  if [ -n "$(pg_bindir)" ] && [ -x "$(pg_bindir)/initdb" ]; then return; fi
  log "PostgreSQL server binaries not found: installing Debian's postgresql"
  apt_install "install it, or set ConnectionStrings__Postgres" postgresql postgresql-contrib
  [ -x "$(pg_bindir)/initdb" ] || die "postgresql installed but initdb not found"
}

# Where the server's files live. As root the server runs as 'postgres', which must be able to
# reach the folder; a checkout under a private home falls back to a folder under /var/tmp.
pg_home() {
  local home="$OPTRUNS_ROOT/.data/postgres"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$home"
    if ! runuser -u postgres -- test -x "$home" 2>/dev/null; then
      home="/var/tmp/optruns-$(printf '%s' "$OPTRUNS_ROOT" | sha1sum | cut -c1-12)/postgres"
      mkdir -p "$home"
    fi
  fi
  printf '%s' "$home"
}

psql_super() {
  local home; home=$(pg_home)
  PGCONNECT_TIMEOUT=5 as_pg_user "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$home/run" -p "$OPTRUNS_PG_PORT" \
    -U postgres "$@"
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | cut -c1-32; }

# Starts this checkout's server when it is not running (initialising it the first time).
# Sets PG_STARTED_HERE=1 when this call (or an earlier one in this shell) started it, so the caller knows to stop it.
ensure_local_postgres() {
  ensure_postgres_installed
  local bin home; bin=$(pg_bindir); home=$(pg_home)
  mkdir -p "$home/run"
  if [ "$(id -u)" = 0 ]; then chown postgres "$home" "$home/run"; fi
  chmod 700 "$home/run"
  if [ ! -f "$home/data/PG_VERSION" ]; then
    log "initialising a local PostgreSQL in $home/data"
    as_pg_user "$bin/initdb" -D "$home/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 || { cat "$home/initdb.log" >&2; die "initdb failed"; }
  fi
  PG_STARTED_HERE=${PG_STARTED_HERE:-0}  # once started by this shell, still so when asked again
  if as_pg_user "$bin/pg_ctl" -D "$home/data" status >/dev/null 2>&1; then
    use_running_postgres_port "$home"
  else
    choose_postgres_port "$home"
    log "starting PostgreSQL on 127.0.0.1:$OPTRUNS_PG_PORT"
    as_pg_user "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 start \
      -o "-p $OPTRUNS_PG_PORT -k $home/run -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB -c fsync=${OPTRUNS_PG_FSYNC:-on}" \
      >/dev/null || { tail -n 20 "$home/server.log" >&2; die "PostgreSQL did not start"; }
    PG_STARTED_HERE=1
  fi
  ensure_roles
}

# This checkout's server is running: connect to the port it listens on (line 4 of postmaster.pid).
use_running_postgres_port() {
  local running
  running=$(sed -n 4p "$1/data/postmaster.pid" 2>/dev/null || true)
  if [[ "$running" =~ ^[0-9]+$ ]] && [ "$running" != "$OPTRUNS_PG_PORT" ]; then
    [ -z "$OPTRUNS_PG_PORT_GIVEN" ] || log "this checkout's PostgreSQL is already running on port $running (not OPTRUNS_PG_PORT=$OPTRUNS_PG_PORT): using it"
    OPTRUNS_PG_PORT=$running
  fi
  export OPTRUNS_PG_PORT
}

# The port for starting the server: OPTRUNS_PG_PORT when given (busy: an error naming it), else the remembered
# one, else 54329; when that one is busy, a free one, remembered in $1/port for the next start.
choose_postgres_port() {
  local wanted
  if [ -n "$OPTRUNS_PG_PORT_GIVEN" ]; then
    ! port_in_use "$OPTRUNS_PG_PORT" || die "127.0.0.1:$OPTRUNS_PG_PORT is in use by another process: set OPTRUNS_PG_PORT to a free port, or unset it to let scripts/run pick one"
  else
    wanted=$(cat "$1/port" 2>/dev/null || echo "$OPTRUNS_PG_PORT")
    OPTRUNS_PG_PORT=$(pick_port "$wanted")
    [ "$OPTRUNS_PG_PORT" = "$wanted" ] || log "port $wanted is in use: PostgreSQL gets port $OPTRUNS_PG_PORT (remembered in $1/port; OPTRUNS_PG_PORT overrides it)"
  fi
  printf '%s\n' "$OPTRUNS_PG_PORT" >"$1/port"
  export OPTRUNS_PG_PORT
}

stop_local_postgres() {
  local home; home=$(pg_home)
  as_pg_user "$(pg_bindir)/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null 2>&1 || true
}

# The two login roles, with passwords generated once and kept beside the data.
ensure_roles() {
  local home creds; home=$(pg_home); creds="$home/credentials.env"
  if [ ! -f "$creds" ]; then
    (umask 077; printf 'OWNER_PASSWORD=%s\nSERVICE_PASSWORD=%s\n' "$(random_secret)" "$(random_secret)" >"$creds")
  fi
  # shellcheck disable=SC1090
  . "$creds"
  psql_super -d postgres >/dev/null <<SQL
SELECT format('CREATE ROLE optruns_owner LOGIN CREATEDB PASSWORD %L', '$OWNER_PASSWORD')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'optruns_owner') \gexec
SELECT format('CREATE ROLE optruns_service LOGIN PASSWORD %L', '$SERVICE_PASSWORD')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'optruns_service') \gexec
SQL
}

# Creates database $1 owned by optruns_owner, when missing.
ensure_database() {
  psql_super -d postgres >/dev/null <<SQL
SELECT format('CREATE DATABASE %I OWNER optruns_owner', '$1')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$1') \gexec
SQL
}

drop_database() {
  psql_super -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 || true
}

# Exports the connection strings for database $1 on the local server.
export_local_connection_strings() {
  local base="Host=127.0.0.1;Port=$OPTRUNS_PG_PORT;Database=$1"
  export ConnectionStrings__Postgres="$base;Username=optruns_service;Password=$SERVICE_PASSWORD"
  export ConnectionStrings__PostgresOwner="$base;Username=optruns_owner;Password=$OWNER_PASSWORD"
}

# The browser tests drive Debian's chromium (never a browser download); installs it when missing.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return
  log "chromium not found: installing Debian's chromium for the dashboard's browser tests"
  apt_install "the browser tests need /usr/bin/chromium" chromium fonts-liberation
}

# Builds the solution once; later steps run the built binaries without rebuilding. Restore and build are timed
# steps (the first restore downloads every package). No MSBuild node outlives the build (no node reuse); with
# $2 = --no-compiler-server not the shared compiler (VBCSCompiler) either, so scripts/run, started and stopped,
# leaves no process behind. (scripts/test keeps the compiler server: it compiles several times faster.)
build_solution() {
  local sln="$OPTRUNS_ROOT/OptimizationRuns.sln" logs="$OPTRUNS_ROOT/.data/logs" servers=()
  [ "${2:-}" != --no-compiler-server ] || servers=(-p:UseSharedCompilation=false)
  mkdir -p "$logs"
  timed_step "restoring packages" "$logs/restore.log" \
    dotnet restore "$sln" -nologo -v quiet -nodeReuse:false
  timed_step "building ($1)" "$logs/build.log" \
    dotnet build "$sln" -c "$1" --no-restore -nologo -v quiet -clp:ErrorsOnly -nodeReuse:false "${servers[@]}"
}

silo_dll() { printf '%s' "$OPTRUNS_ROOT/src/Silo/bin/$1/net10.0/OptimizationRuns.Silo.dll"; }
gateway_dll() { printf '%s' "$OPTRUNS_ROOT/src/Gateway/bin/$1/net10.0/OptimizationRuns.Gateway.dll"; }

# Applies pending migrations with the owner's connection.
migrate_up() {
  [ -n "${ConnectionStrings__PostgresOwner:-}" ] || {
    log "ConnectionStrings__PostgresOwner is not set: assuming the schema is migrated"; return; }
  timed_step "applying migrations" "$OPTRUNS_ROOT/.data/logs/migrate.log" dotnet "$(silo_dll "$1")" migrate up
}

# Stops the processes whose ids a script collected in its array `pids` (TERM, up to 30 s, then KILL), and empties it.
stop_processes() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
