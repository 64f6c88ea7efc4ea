#!/usr/bin/env bash
# Ingest benchmark: optimizer workers recording sample batches through the run grains of the real silo
# binary, against the raw ceiling (the same rows binary-COPYed straight into optimization_samples), in
# alternating rounds. Sets up a database of its own on this checkout's local PostgreSQL (as scripts/test
# does), starts the silo on its own ports, runs bench/Ingest, then stops the silo and drops the database.
# The last line printed is one JSON object (samples_per_s, raw_copy_per_s, ratio, p50_ms, p95_ms, p99_ms, …).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/ingest.sh [options]

Options for this script:
  --silo-port N         the benchmark silo's silo-to-silo port (default 11211)
  --gateway-port N      the benchmark silo's gateway port (default 30200)
  --keep-database       do not drop the benchmark database at the end (its name is printed)
  --database NAME       write into this database instead of a new optruns_bench_<pid> and keep it, e.g. one that
                        bench/queries.sh --keep-database filled: both kinds of round then write into the same full
                        table (in a project of its own; its rows stay)
  --via grains|http     workers call the grains through the Orleans client (default), or send JSON
                        through a gateway process this script starts (the REST contract over loopback)
  --http-port N         that gateway's HTTP port (default 8280)

Options passed to the load generator (bench/Ingest):
  --runs N              runs written at once (default 16)
  --workers N           concurrent optimizer workers, spread over the runs (default 64)
  --batch N             samples per RecordSamplesAsync call (default 50)
  --payload-bytes N     approximate bytes of one sample as sent (default 490)
  --batches N           batches each worker sends per round (default 100)
  --duration S          instead of --batches: each round lasts S seconds
  --repeat N            measured rounds of each kind, alternating raw and grains (default 3)
  --warmup N            batches per worker in one unmeasured warm-up round of each kind (default 60; 0: none)
  --iteration-every N   a run records an iteration every N batches of its workers (default 10)
  --paced-fraction F    then one paced round offering F × the median grain rate, workers on a fixed
                        schedule, to read the acknowledgement latency below saturation (default 0.5; 0: none)
  --paced-seconds S     how long the paced round lasts (default 10)

Environment: OPTRUNS_PG_PORT (default 54329) picks the local PostgreSQL; BENCH_SILO_ENV may hold extra
KEY=VALUE settings for the silo (e.g. "Runs__MaxSamplesPerCommit=5000"), BENCH_GATEWAY_ENV for the gateway
of --via http (e.g. "Telemetry__Tracing=true" in both, to measure tracing at 100 % sampling). The silo's log goes to
.data/logs/bench-ingest-silo.log. Takes about 2-3 minutes with the defaults (build included).
TXT
}

silo_port=11211
gateway_port=30200
database_name=""
via=grains
http_port=8280
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --silo-port) silo_port="${2:?--silo-port needs a value}"; shift 2 ;;
    --gateway-port) gateway_port="${2:?--gateway-port needs a value}"; shift 2 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    --database) database_name="${2:?--database needs a value}"; BENCH_KEEP_DATABASE=1; shift 2 ;;
    --via) via="${2:?--via needs grains or http}"; shift 2
      case "$via" in grains|http) ;; *) die "--via takes grains or http" ;; esac ;;
    --http-port) http_port="${2:?--http-port needs a value}"; shift 2 ;;
    --runs|--workers|--batch|--payload-bytes|--batches|--duration|--repeat|--warmup|--iteration-every|--paced-fraction|--paced-seconds)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

bench_require_free_ports "$silo_port" "$gateway_port" $([ "$via" = grains ] || echo "$http_port")
result_file=$(mktemp)
temp_paths+=("$result_file")
bench_database "${database_name:-optruns_bench_$$}" bench/Ingest/OptimizationRuns.Bench.Ingest.csproj

log "starting the silo (gateway 127.0.0.1:$gateway_port, log $logs/bench-ingest-silo.log)"
bench_start_silo ingest "$silo_port" "$gateway_port"
bench_wait_listening "$gateway_port" ingest
log "the silo accepts clients"

if [ "$via" = http ]; then
  bench_new_admin_key
  log "starting the gateway on http://127.0.0.1:$http_port (log $logs/bench-ingest-gateway.log)"
  bench_start_gateway bench-ingest-gateway "$http_port" "$gateway_port"
  bench_wait_ready "http://127.0.0.1:$http_port" ingest
  passthrough+=(--via http --http-url "http://127.0.0.1:$http_port")
fi

bench_dll="$OPTRUNS_ROOT/bench/Ingest/bin/$CONFIGURATION/net10.0/OptimizationRuns.Bench.Ingest.dll"
set +e
dotnet "$bench_dll" --gateway-port "$gateway_port" --silo-pid "$silo_pid" --result-file "$result_file" "${passthrough[@]}"
status=$?
set -e
[ "$status" = 0 ] || log "the load generator exited with $status"

result=$(cat "$result_file" 2>/dev/null || true)
bench_cleanup
[ -n "$result" ] || die "no result"
# The last line: the figures as one JSON object.
printf '%s\n' "$result"
exit "$status"
