#!/usr/bin/env bash
# Dashboard benchmark (issue 12): the run page's server time on a heavy run (50 trials, 4 predictors, 12,975
# samples) against the REST calls it makes, first paint and the chart drawn in headless chromium, a 2,000-trial
# chart's render time measured in the page, and ack → point latency on an open run page while 16 runs ingest.
# It is tests/OptimizationRuns.Tests/Dashboard/DashboardBench.cs (skipped unless OPTRUNS_DASHBOARD_BENCH=1): the
# browser-test fixture's in-process silo and Kestrel gateway over a database of its own on this checkout's local
# PostgreSQL, Release build. The last line printed is one JSON object (also in .data/bench/dashboard.json).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
. "$(dirname "$0")/lib.sh"

ensure_chromium
bench_test_database "optruns_dbench_$$"
rm -f "$OPTRUNS_ROOT/.data/bench/dashboard.json"
OPTRUNS_DASHBOARD_BENCH=1 dotnet test "$OPTRUNS_ROOT/tests/OptimizationRuns.Tests" -c "$CONFIGURATION" --no-build -nologo \
  --filter "FullyQualifiedName~DashboardBench" >&2
cat "$OPTRUNS_ROOT/.data/bench/dashboard.json"; echo
