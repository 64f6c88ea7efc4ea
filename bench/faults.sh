#!/usr/bin/env bash
# Fault benchmark: the fault tests of tests/OptimizationRuns.Tests/Faults, run long and repeated, against real silo,
# gateway and PostgreSQL processes — a silo killed with SIGKILL under 32 HTTP writers on 16 runs, PostgreSQL paused
# (SIGSTOP) and stopped under ingest, parts started in the wrong order — and the property-based hostile-input tests
# with many cases per endpoint. Sets up a database of its own on this checkout's local PostgreSQL, builds Debug (as
# scripts/test), prints every measured figure and a summary, and drops the database.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/faults.sh [options]

  --rounds N            run the fault tests N times (default 3)
  --write-seconds N     how long the workers write after a silo is killed (default 60)
  --pause-seconds N     how long PostgreSQL stays paused (default 10)
  --property-cases N    hostile-input cases per endpoint, 0 to skip (default 10000; about 10 ms each on 2 cores)
  --keep-database       do not drop the benchmark database at the end

Environment: OPTRUNS_PG_PORT (default 54329) picks the local PostgreSQL. Output: .data/logs/bench-faults-*.log.
TXT
}

rounds=3
write_seconds=60
pause_seconds=10
property_cases=10000
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
    --write-seconds) write_seconds="${2:?--write-seconds needs a value}"; shift 2 ;;
    --pause-seconds) pause_seconds="${2:?--pause-seconds needs a value}"; shift 2 ;;
    --property-cases) property_cases="${2:?--property-cases needs a value}"; shift 2 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

CONFIGURATION=Debug  # as scripts/test builds the tests
bench_test_database "optruns_fbench_$$"

# Runs the tests matching $1 with detailed output into $2; the tests print their figures as plain lines.
run_tests() {
  dotnet test "$OPTRUNS_ROOT/OptimizationRuns.sln" -c "$CONFIGURATION" --no-build -nologo \
    --logger "console;verbosity=detailed" --filter "$1" >"$2" 2>&1 || true
  grep -E '^\s+(Passed|Failed) ' "$2" | sed 's/^ */  /'
}

export OPTRUNS_FAULTS_SECONDS="$write_seconds" OPTRUNS_FAULTS_PAUSE_SECONDS="$pause_seconds"
for round in $(seq 1 "$rounds"); do
  log "round $round of $rounds: fault tests (writers go on $write_seconds s after the kill; PostgreSQL paused $pause_seconds s)"
  out="$logs/bench-faults-round$round.log"
  run_tests "FullyQualifiedName~OptimizationRuns.Tests.Faults.SiloKillTests|FullyQualifiedName~DatabasePauseTests|FullyQualifiedName~DatabaseOutageTests|FullyQualifiedName~StartupOrderTests" "$out"
  grep -E "^ *(killed the silo|the killed silo|[0-9]+ batches acknowledged|paused [0-9]+ s|[0-9]+ answers 503|silo threads|first write acknowledged|every probed request|ready [0-9]+ ms|writers:)" "$out" \
    | sed 's/^ */  /' | sort -u
done

if [ "$property_cases" != 0 ]; then
  log "hostile input: $property_cases cases per endpoint"
  out="$logs/bench-faults-properties.log"
  started=$(date +%s)
  OPTRUNS_PROPERTY_CASES="$property_cases" run_tests "FullyQualifiedName~OptimizationRuns.Tests.Properties" "$out" | sed 's/HostileRequestsAreRefusedWithProblemDetailsAndWriteNothing//'
  log "hostile input: $(grep -c '^ *Passed ' "$out" || true) endpoints passed, $(grep -c '^ *Failed ' "$out" || true) failed in $(( $(date +%s) - started )) s"
fi
