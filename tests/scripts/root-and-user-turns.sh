#!/usr/bin/env bash
# Root and a normal user taking turns, and a fresh clone followed as README.md says. Too slow for scripts/test (a new
# user's first NuGet restore, two cold builds): run it by hand, as root, on a machine where `useradd` is allowed:
#   tests/scripts/root-and-user-turns.sh [source-repository]   (default: this checkout)
# It creates the user optruns-turns, clones the source into its home and then, each step timed:
#   1. user: scripts/run --demo, cold (PostgreSQL initialised, packages restored, built), README "Answers about a run"
#      as written (a first compare), Ctrl-C: nothing left running;
#   2. root: scripts/test --filter HealthApi on the user's checkout: passes, and no file there becomes root's;
#   3. root: scripts/run on it; Ctrl-C;
#   4. user: scripts/run warm, with the remembered PostgreSQL port taken by another process: a free one is picked;
#      then OPTRUNS_PG_PORT set to that busy port: refused naming OPTRUNS_PG_PORT;
#   5. user on a checkout root cloned: refused before anything changes, naming the chown;
#   6. root: a fresh clone of its own, scripts/run --demo, README "Answers about a run" (cold for that checkout).
set -uo pipefail
source_repo="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
user=optruns-turns
home="/home/$user"
clone="$home/optruns"
root_clone=/tmp/optruns-turns-root
marker="turns-$$"
log_dir=$(mktemp -d)
chmod 755 "$log_dir"
failures=0
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
stamp() { date +%H:%M:%S; }
[ "$(id -u)" = 0 ] || { echo "run this as root (it creates a user)"; exit 2; }
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
as_user() { runuser -u "$user" -- env -u ASPNETCORE_URLS -u OPTRUNS_PG_PORT PATH="$PATH" HOME="$home" USER="$user" OPTRUNS_CHECK_MARKER="$marker" "$@"; }
as_root() { env -u ASPNETCORE_URLS -u OPTRUNS_PG_PORT OPTRUNS_CHECK_MARKER="$marker" "$@"; }
leftovers() { grep -l "OPTRUNS_CHECK_MARKER=$marker" /proc/[0-9]*/environ 2>/dev/null | sed 's#/proc/\([0-9]*\)/environ#\1#' | grep -vx "$$" || true; }
# Ctrl-C: INT to the process group, as a terminal sends it. A shell started in the background without job control
# (a CI runner, a tool) hands its children SIGINT ignored, and an ignored signal cannot be trapped: then TERM, which
# scripts/run handles the same way (to the whole group too).
interrupt() {
  local pid="$1" ignored
  ignored=$(awk '/^SigIgn:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
  if [ -n "$ignored" ] && (( (16#$ignored & 2) == 0 )); then kill -INT -- "-$pid" 2>/dev/null; else kill -TERM -- "-$pid" 2>/dev/null; fi
}
wait_for() { local seconds="$1" pattern="$2" file="$3"; for _ in $(seq 1 "$seconds"); do grep -q -- "$pattern" "$file" 2>/dev/null && return 0; sleep 1; done; return 1; }

# Starts scripts/run in $1 as $2 (as_user or as_root) with args, waits for the banner; sets t to the seconds it took.
start_run() {
  local dir="$1" who="$2" out="$3"; shift 3
  local began=$SECONDS
  # Job control: a process group of its own, as in a terminal, so that Ctrl-C is an INT to that group.
  set -m
  (cd "$dir" && "$who" bash scripts/run "$@") >"$out" 2>&1 &
  run_pid=$!
  set +m
  if wait_for 900 "Press Ctrl-C to stop" "$out"; then t=$((SECONDS - began)); else t=fail; fi
}
# Ctrl-C, then waits (up to 120 s) until every process of that run has gone: scripts/run's cleanup stops the silos,
# the gateway and the PostgreSQL it started after the first process of the group has exited.
stop_run() {
  local began=$SECONDS left
  interrupt "$run_pid"
  wait "$run_pid" 2>/dev/null
  for _ in $(seq 1 120); do left=$(leftovers); [ -n "$left" ] || break; sleep 1; done
  if [ -z "$left" ]; then ok "$1: Ctrl-C stopped everything in $((SECONDS - began)) s, no process left"; else
    fail "$1: left running after 120 s: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline | cut -c1-80; echo; done)"
    for p in $left; do kill -TERM "$p" 2>/dev/null; done
  fi
}
# Runs README.md's "Answers about a run" bash block in the checkout $1 as $2.
readme_answers() {
  awk '/^## / { on = ($0 == "## Answers about a run") } on && /^```bash$/ { code = 1; next } code && /^```$/ { code = 0; next } code' \
    "$1/README.md" >"$log_dir/answers.sh"
  chmod 644 "$log_dir/answers.sh"
  (cd "$1" && "$2" timeout 120 bash -euo pipefail "$log_dir/answers.sh") >"$log_dir/answers-$3.log" 2>&1
}

# $1 (step), $2 checkout, $3 as_user or as_root: scripts/run --demo cold, the demo to its end, README's "Answers about a
# run" as written (a first compare), Ctrl-C.
demo_walk() {
  local step="$1" dir="$2" who="$3" out="$log_dir/$1-demo.log"
  start_run "$dir" "$who" "$out" --demo
  if [ "$t" = fail ]; then fail "$step. $who: scripts/run --demo did not come up"; tail -n 20 "$out"; else
    ok "$step. $who: scripts/run --demo cold start: $t s"
    grep -E "done in|ready in|in use" "$out" | sed 's/^/      /'
    if wait_for 300 "demo finished" "$out"; then ok "$step. $who: the demo finished"; else fail "$step. $who: the demo did not finish"; fi
    if readme_answers "$dir" "$who" "$step"; then ok "$step. $who: README \"Answers about a run\" as written: $(grep -m1 '"paired"' "$log_dir/answers-$step.log")"
    else fail "$step. $who: README \"Answers about a run\" failed"; tail -n 10 "$log_dir/answers-$step.log"; fi
  fi
  stop_run "$step. $who"
}

# KEEP_CLONE=1 keeps the user's checkout of an earlier run (then step 1 is a warm start).
rm -rf "$root_clone"
if [ "${KEEP_CLONE:-0}" = 1 ] && [ -d "$clone/.git" ]; then git -c safe.directory='*' -C "$clone" pull -q --ff-only && chown -R "$user:" "$clone"; else
  rm -rf "$clone"; git clone -q "$source_repo" "$clone" && chown -R "$user:" "$clone"
fi
echo "[$(stamp)] $clone cloned for $user; logs in $log_dir"

# 1. The user, cold, with the demo and a first compare.
demo_walk 1 "$clone" as_user

# 2. Root runs the tests on the user's checkout.
began=$SECONDS
if (cd "$clone" && as_root env CI=true bash scripts/test --filter "FullyQualifiedName~HealthApi") >"$log_dir/2-root-test.log" 2>&1; then
  ok "2. root: scripts/test on the user's checkout passed in $((SECONDS - began)) s: $(tail -n 1 "$log_dir/2-root-test.log")"
else fail "2. root: scripts/test on the user's checkout failed"; tail -n 15 "$log_dir/2-root-test.log"; fi
grep -q "this checkout belongs to $user: running as $user" "$log_dir/2-root-test.log" && ok "2. root: said it runs as $user" || fail "2. root: did not say it runs as $user"
foreign=$(find "$clone" ! -user "$user" -print -quit)
[ -z "$foreign" ] && ok "2. nothing in the user's checkout belongs to another user" || fail "2. $foreign belongs to $(stat -c %U "$foreign")"

# 3. Root starts the system on the user's checkout.
start_run "$clone" as_root "$log_dir/3-root-run.log"
[ "$t" = fail ] && fail "3. root: scripts/run did not come up" || ok "3. root: scripts/run on the user's checkout: $t s"
stop_run "3. root"

# 4. The user again, warm, with the remembered PostgreSQL port taken.
pg_port=$(cat "$clone/.data/postgres/port")
python3 -c 'import socket, sys, time; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(900)' "$pg_port" &
squatter=$!
sleep 0.5
start_run "$clone" as_user "$log_dir/4-user-warm.log"
if [ "$t" = fail ]; then fail "4. user: warm scripts/run did not come up"; tail -n 20 "$log_dir/4-user-warm.log"; else
  ok "4. user: warm start with port $pg_port taken: $t s"
  grep -q "port $pg_port is in use: PostgreSQL gets port" "$log_dir/4-user-warm.log" && ok "4. a free PostgreSQL port was picked and said so" \
    || fail "4. no message about the busy PostgreSQL port"
fi
stop_run "4. user"
(cd "$clone" && as_user env OPTRUNS_PG_PORT="$pg_port" timeout 120 bash scripts/run) >"$log_dir/4-user-given-busy.log" 2>&1
status=$?
grep -q "127.0.0.1:$pg_port is in use by another process: set OPTRUNS_PG_PORT" "$log_dir/4-user-given-busy.log" && [ "$status" != 0 ] \
  && ok "4. OPTRUNS_PG_PORT=$pg_port (busy) is refused naming it" || { fail "4. a busy OPTRUNS_PG_PORT was not refused clearly"; tail -n 5 "$log_dir/4-user-given-busy.log"; }
kill "$squatter" 2>/dev/null

# 5. The user on root's clone: refused, nothing changed.
git clone -q "$source_repo" "$root_clone"
(cd "$root_clone" && as_user timeout 60 bash scripts/run) >"$log_dir/5-user-on-root-clone.log" 2>&1
status=$?
if [ "$status" != 0 ] && grep -q "take the checkout back with: sudo chown -R $user: $root_clone" "$log_dir/5-user-on-root-clone.log" \
   && [ ! -e "$root_clone/.data" ]; then ok "5. user on root's clone: refused before anything changed: $(grep error: "$log_dir/5-user-on-root-clone.log")"
else fail "5. user on root's clone: not refused clearly"; cat "$log_dir/5-user-on-root-clone.log"; fi

# 6. Root, a fresh clone of its own, as README says.
demo_walk 6 "$root_clone" as_root

echo "root-and-user turns: $failures failed (logs: $log_dir)"
[ "$failures" = 0 ]
