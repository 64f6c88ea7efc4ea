#!/usr/bin/env bash
# Comparison benchmark: GET /api/optimization/compare and /compare/examples through the real gateway and silo
# processes, on two runs with full evaluations of 1,000 examples each (bench/compare.py loads them through the API).
# Sets up a database of its own on this checkout's local PostgreSQL, builds Release, starts one silo and one gateway on
# free ports (bench/lib.sh), runs bench/compare.py, stops everything and drops the database. The last line printed is one JSON
# object (p50/p95/p99 ms per pattern).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/compare.sh [options]

Options for this script:
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

passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    --without-ids) passthrough+=("$1"); shift ;;
    --examples|--full-evaluations|--minibatches|--requests|--warmup|--rounds|--page-limit|--seed)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

bench_database "optruns_cbench_$$"
bench_start_system compare

set +e
python3 "$OPTRUNS_ROOT/bench/compare.py" --gateway "$url" "${passthrough[@]}"
status=$?
set -e
[ "$status" = 0 ] || log "the benchmark exited with $status"
exit "$status"
