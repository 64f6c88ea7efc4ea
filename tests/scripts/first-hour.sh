#!/usr/bin/env bash
# The first hour, checked against a started system: scripts/run --silos 2 --demo comes up (a busy ASPNETCORE_URLS is
# refused naming it), its banner lists the docs, OpenAPI, health, dashboard and metrics URLs and the demo key, each
# silo's metrics port serves optruns_* series, the demo leaves fresh analytics, README.md's commands ("Using it" and
# "Answers about a run") run as written, a silo killed with SIGKILL is restarted while the cluster keeps answering,
# and Ctrl-C leaves no process behind (build servers included).
#
# Usage: tests/scripts/first-hour.sh   (scripts/test runs it without arguments; needs the local PostgreSQL's settings
# as scripts/test leaves them, or none: scripts/run starts what it needs). OPTRUNS_CONFIGURATION picks the build
# (scripts/test: Debug). Exit status 0 when every check passed; each check prints "ok" or "FAIL".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/lib.sh"

work=$(mktemp -d)
marker="first-hour-$$-$RANDOM"
database="optruns_first_hour_$$"
failures=0
run_pid=""
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what="$1"; shift; if "$@" >>"$work/checks.log" 2>&1; then ok "$what"; else fail "$what (see $work/checks.log)"; fi; }
# Ctrl-C: INT to the process group, as a terminal sends it. A shell started in the background without job control
# (a CI runner, a tool) hands its children SIGINT ignored, and an ignored signal cannot be trapped: then TERM, which
# scripts/run handles the same way (to the whole group too).
interrupt() {
  local pid="$1" ignored
  ignored=$(awk '/^SigIgn:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
  if [ -n "$ignored" ] && (( (16#$ignored & 2) == 0 )); then kill -INT -- "-$pid" 2>/dev/null; else kill -TERM -- "-$pid" 2>/dev/null; fi
}
wait_for() { local seconds="$1" pattern="$2" file="$3"; for _ in $(seq 1 "$seconds"); do grep -q -- "$pattern" "$file" 2>/dev/null && return 0; sleep 1; done; return 1; }
# Processes that carry this check's marker in their environment: everything scripts/run started, build servers included.
# (Only scripts/run gets the marker, not this script's own subshells.)
leftovers() { grep -l "OPTRUNS_CHECK_MARKER=$marker" /proc/[0-9]*/environ 2>/dev/null | sed 's#/proc/\([0-9]*\)/environ#\1#' || true; }
finish() {
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then interrupt "$run_pid"; wait "$run_pid" 2>/dev/null; fi
  for pid in $(leftovers); do kill -TERM "$pid" 2>/dev/null || true; done
  [ -n "${LOCAL_PG_FOR_CHECK:-}" ] && drop_database "$database"
}
trap finish EXIT

export OPTRUNS_CONFIGURATION="${OPTRUNS_CONFIGURATION:-Debug}" OPTRUNS_DATABASE="$database"
[ -n "${ConnectionStrings__Postgres:-}" ] || LOCAL_PG_FOR_CHECK=1
unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner Orleans__SiloPort Orleans__GatewayPort Orleans__Gateways

# 1. A busy ASPNETCORE_URLS is refused at once, naming the setting.
busy=$(pick_port 45999)
python3 -c 'import socket, sys, time; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$busy" &
listener=$!
sleep 0.5
OPTRUNS_CHECK_MARKER="$marker" ASPNETCORE_URLS="http://127.0.0.1:$busy" timeout 60 bash "$root/scripts/run" >"$work/busy.log" 2>&1
status=$?
kill "$listener" 2>/dev/null
check "a busy ASPNETCORE_URLS stops the start naming it (status $status)" \
  bash -c '[ "$1" != 0 ] && [ "$1" != 124 ] && grep -q "in use by another process: set ASPNETCORE_URLS" "$2"' _ "$status" "$work/busy.log"

# 2. The system with two silos and the demo.
port=$(pick_port 46000)
export ASPNETCORE_URLS="http://127.0.0.1:$port"
started=$SECONDS
# Job control: scripts/run gets a process group of its own, as in a terminal, and Ctrl-C is an INT to that group.
set -m
OPTRUNS_CHECK_MARKER="$marker" bash "$root/scripts/run" --silos 2 --demo >"$work/run.log" 2>&1 &
run_pid=$!
set +m
if ! wait_for 300 "Press Ctrl-C to stop" "$work/run.log"; then
  fail "scripts/run did not print its banner within 300 s"; tail -n 30 "$work/run.log"; exit 1
fi
ok "scripts/run --silos 2 --demo ready in $((SECONDS - started)) s"
for line in "API docs   http://127.0.0.1:$port/docs" "OpenAPI    http://127.0.0.1:$port/openapi/v1.json" \
            "Health     http://127.0.0.1:$port/health/ready" "Dashboard  http://127.0.0.1:$port/runs" \
            "Metrics    http://127.0.0.1:$port/metrics" "Demo key   ork_" "Settings   .data/run.env"; do
  check "the banner lists: $line" grep -qF -- "$line" "$work/run.log"
done
check "the start says what it does with elapsed times" \
  bash -c 'grep -q "restoring packages: done in" "$1" && grep -q "building (.*): done in" "$1" && grep -q "applying migrations: done in" "$1" && grep -q "ready in" "$1"' _ "$work/run.log"
check "the docs page answers" curl -fsS -o /dev/null "http://127.0.0.1:$port/docs"
. "$root/.data/run.env"

# 3. The demo: its metrics in the silos, fresh analytics when it ends.
if wait_for 300 "demo finished" "$work/run.log"; then ok "the demo finished"; else fail "the demo did not finish within 300 s"; fi
metrics=$(sed -n 's#^  Metrics .*silos: ##p' "$work/run.log")
check "two silo metrics URLs in the banner: $metrics" test "$(wc -w <<<"$metrics")" = 2
for url in $metrics; do check "$url serves Prometheus text" bash -c 'curl -fsS "$1" | grep -q "^# TYPE"' _ "$url"; done
# The demo's runs may all live on one silo: between them, the silos have the samples it committed.
check "the silos' metrics have optruns_samples_committed" bash -c 'for u in $1; do curl -fsS "$u"; done | grep -q "^optruns_samples_committed"' _ "$metrics"
check "the analytics count the demo's completed runs without waiting for the schedule" bash -c \
  'curl -fsS -H "Authorization: Bearer $1" "$2/api/optimization/analytics" | jq -e "[.items[].completedRuns] | add >= 4"' _ "$OPTRUNS_DEMO_KEY" "$OPTRUNS_URL"

# 4. README.md's commands, as written, each section one script, in a scratch folder with the checkout's run.env.
mkdir -p "$work/readme/.data"; cp "$root/.data/run.env" "$work/readme/.data/run.env"
for section in "Using it" "Answers about a run"; do
  awk -v want="## $section" '/^## / { on = ($0 == want) } on && /^```bash$/ { code = 1; next } code && /^```$/ { code = 0; next } code' \
    "$root/README.md" >"$work/readme/section.sh"
  if [ ! -s "$work/readme/section.sh" ]; then fail "README section \"$section\" has no bash block"; continue; fi
  if (cd "$work/readme" && timeout 120 bash -euo pipefail section.sh) >"$work/readme-$section.log" 2>&1; then
    ok "README \"$section\": $(grep -c . "$work/readme/section.sh") lines ran as written"
  else
    fail "README \"$section\" failed as written:"; tail -n 15 "$work/readme-$section.log"
  fi
done

# 5. A silo killed with SIGKILL is restarted; the cluster answers meanwhile and after.
victim=$(cat "$root/.data/run/silo-1.pid")
kill -KILL "$victim"
check "scripts/run logs the restart of the killed silo" wait_for 30 "silo 1 exited (status 137): restarting it in 1 s" "$work/run.log"
restarted=""
for _ in $(seq 1 60); do
  current=$(cat "$root/.data/run/silo-1.pid" 2>/dev/null || true)
  if [ -n "$current" ] && [ "$current" != "$victim" ] && kill -0 "$current" 2>/dev/null; then restarted=$current; break; fi
  sleep 1
done
check "silo 1 runs again (pid $victim → ${restarted:-none})" test -n "$restarted"
check "the gateway and the surviving silo kept the system up" kill -0 "$run_pid"
write_ok() {
  for _ in $(seq 1 30); do
    curl -fsS -X POST -H "Authorization: Bearer $OPTRUNS_DEMO_KEY" -H 'Content-Type: application/json' \
      -d '{"runName":"after the restart","optimizerType":"miprov2","config":{}}' "$OPTRUNS_URL/api/optimization/runs" >/dev/null && return 0
    sleep 1
  done
  return 1
}
check "writes are accepted after the restart" write_ok
check "readiness is back" curl -fsS -o /dev/null "$OPTRUNS_URL/health/ready"

# 6. Ctrl-C (INT to the whole process group, as a terminal sends it) stops everything: no process it started is
# left, build servers included.
interrupt "$run_pid"
stopped=""
for _ in $(seq 1 90); do kill -0 "$run_pid" 2>/dev/null || { stopped=1; break; }; sleep 1; done
wait "$run_pid" 2>/dev/null; run_pid=""
check "Ctrl-C stopped scripts/run" test -n "$stopped"
sleep 1
left=$(leftovers)
check "no process left behind${left:+: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-80; echo; done)}" test -z "$left"
check ".data/run.env is gone once stopped" test ! -e "$root/.data/run.env"

echo "first-hour checks: $failures failed (logs: $work)"
[ "$failures" = 0 ]
