#!/usr/bin/env bash
# Candidate read benchmark: GET /api/optimization/runs/{runId}/candidates of a heavy MIPROv2 run (50 trials, 4
# predictors, 10 instruction + 10 demo candidates each) through the real gateway and silo processes (Release), on a
# database of its own on this checkout's local PostgreSQL ($OPTRUNS_PG_PORT). Starts one silo and one gateway on free
# ports, runs bench/candidates.py against the gateway, stops both and drops the database. Extra arguments go to
# bench/candidates.py (--requests N, --warmup N). The last line printed is one JSON object. BENCH_KEEP_DATABASE=1 keeps
# the database (its name is printed) to look at the query's plan afterwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

bench_database "optruns_cbench_$$"
bench_start_system candidates
BENCH_PIDS="silo=$silo_pid gateway=$gateway_pid postgres=$postmaster" \
  python3 "$OPTRUNS_ROOT/bench/candidates.py" "$url" "$OPTRUNS_ADMIN_KEY" "$@"
