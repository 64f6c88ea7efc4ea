#!/usr/bin/env bash
# Ingest with 1, 2, 3 … silo processes against one PostgreSQL: where the bottleneck sits as silos are added.
# For each silo count it gives itself a fresh database on this checkout's local PostgreSQL, starts that many real
# silo processes with ADO.NET membership on it (as scripts/run --silos N does), runs the load generator bench/Ingest
# against the whole cluster (its client spreads calls over every silo's gateway), reads the CPU of each process from
# /proc/<pid>/stat (each silo, the HTTP gateway with --via http, PostgreSQL's backends) and the WAL written per
# sample, next to a raw binary COPY of the same rows in the same run; then stops the silos and drops the database.
# Prints a table per silo count; the last line is one JSON object with every invocation's figures.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/silos.sh [options]

Options for this script:
  --silos "1 2 3"       the silo counts to measure, in this order (default "1 2 3"); a count may repeat
                        ("1 2 3 3 2 1" alternates the order against drifting outside load)
  --via grains|http     workers call the grains through an Orleans client (default), or send JSON through one
                        gateway process this script starts (Orleans__Gateways: every silo)
  --port-base N         silo ports N+1.., Orleans gateway ports N+101.., HTTP port N+200 (default 12400)
  --keep-database       do not drop the benchmark databases (their names are printed)
  --skip-build          use the Release binaries already built (after an earlier run of this script)

Options passed to the load generator (bench/Ingest), defaults here chosen for a shared 2-core machine:
  --runs N (16)  --workers N (64)  --batch N (50)  --payload-bytes N (490)  --batches N (60)  --duration S
  --repeat N (3)  --warmup N (20)  --iteration-every N (10)  --paced-fraction F (0)  --paced-seconds S

Environment: OPTRUNS_PG_PORT (default 54329) picks the local PostgreSQL; BENCH_SILO_ENV may hold extra KEY=VALUE
settings for every silo. Logs: .data/logs/bench-silos-<count>-<i>-silo.log (and bench-silos-<count>-gateway.log); every invocation's JSON
line: .data/logs/bench-silos-<pid>.jsonl.
TXT
}

counts="1 2 3"
via=grains
port_base=12400
keep_database=0
skip_build=0
passthrough=(--batches 60 --warmup 20 --paced-fraction 0)
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --silos) counts="${2:?--silos needs counts}"; counts="${counts//,/ }"; shift 2
      for n in $counts; do [[ "$n" =~ ^[1-9]$ ]] || die "--silos takes counts from 1 to 9"; done ;;
    --via) via="${2:?--via needs grains or http}"; shift 2
      case "$via" in grains|http) ;; *) die "--via takes grains or http" ;; esac ;;
    --port-base) port_base="${2:?--port-base needs a value}"; shift 2 ;;
    --keep-database) keep_database=1; shift ;;
    --skip-build) skip_build=1; shift ;;
    --runs|--workers|--batch|--payload-bytes|--batches|--duration|--repeat|--warmup|--iteration-every|--paced-fraction|--paced-seconds)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

logs="$OPTRUNS_ROOT/.data/logs"
results="$logs/bench-silos-$$.jsonl"
result_file=$(mktemp)
pids=()
database=""

# Stops this invocation's gateway and silos (TERM, then KILL after 30 s) and drops its database.
stop_cluster() {
  stop_processes
  if [ -n "$database" ] && [ "$keep_database" = 0 ]; then drop_database "$database"; fi
  database=""
}
cleanup() {
  trap - EXIT
  stop_cluster
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then stop_local_postgres; fi
  rm -f "$result_file"
}
trap 'exit 130' INT TERM
trap cleanup EXIT

unset ConnectionStrings__Postgres ConnectionStrings__PostgresOwner
ensure_local_postgres
[ "$skip_build" = 1 ] || build_solution "$CONFIGURATION"
mkdir -p "$logs"
: >"$results"
log "each invocation's JSON line is kept in $results"
bench_dll="$OPTRUNS_ROOT/bench/Ingest/bin/$CONFIGURATION/net10.0/OptimizationRuns.Bench.Ingest.dll"

# One invocation: $1 silos on a fresh database, the load generator against all of them.
measure() {
  local count="$1" i args=() gateways=()
  database="optruns_silos_$$_${count}_$RANDOM"
  ensure_database "$database"
  export_local_connection_strings "$database"
  migrate_up "$CONFIGURATION"
  log "$count silo(s) on $database (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  for i in $(seq 1 "$count"); do
    bench_require_free_ports $((port_base + i)) $((port_base + 100 + i))
    bench_start_silo "silos-$count-$i" $((port_base + i)) $((port_base + 100 + i)) Cluster__Membership=AdoNet
    args+=(--gateway-port $((port_base + 100 + i)) --silo-pid "$silo_pid")
    gateways+=("127.0.0.1:$((port_base + 100 + i))")
  done
  for i in $(seq 1 "$count"); do
    bench_wait_listening $((port_base + 100 + i)) "silos-$count-$i"
  done
  # Every silo has joined the membership (status 3 = active), so calls spread over all of them from the start.
  for i in $(seq 1 120); do
    [ "$(psql_super -d "$database" -tAc "SELECT count(*) FROM orleansmembershiptable WHERE status = 3")" = "$count" ] && break
    [ "$i" = 120 ] && die "the membership did not show $count active silos within 60 s"
    sleep 0.5
  done
  log "$count silo(s) active"

  if [ "$via" = http ]; then
    local http_port=$((port_base + 200))
    bench_require_free_ports "$http_port"
    bench_new_admin_key
    # Orleans__Gateways (every silo) takes the place of the one gateway port.
    bench_start_gateway "bench-silos-$count-gateway" "$http_port" $((port_base + 101)) Orleans__Gateways="$(IFS=,; echo "${gateways[*]}")"
    args+=(--via http --http-url "http://127.0.0.1:$http_port" --gateway-pid "$gateway_pid")
    bench_wait_ready "http://127.0.0.1:$http_port" "silos-$count"
  fi

  : >"$result_file"
  dotnet "$bench_dll" "${args[@]}" --result-file "$result_file" "${passthrough[@]}" \
    || log "the load generator exited with $? ($count silos)"
  [ -s "$result_file" ] || die "no result from the load generator ($count silos)"
  cat "$result_file" >>"$results"
  stop_cluster
}

for n in $counts; do measure "$n"; done

# The table per silo count (medians over that count's rounds and invocations), then the JSON line.
python3 - "$results" "$via" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
via = sys.argv[2]
med = statistics.median
def part(rounds, key):
    return med(r[key] for r in rounds)
print(f"\nsilos: ingest {via} vs raw COPY, CPU ms per 1,000 samples (medians of the measured rounds)")
head = (f"{'silos':>5} {'samples/s':>10} {'raw rows/s':>10} {'ratio':>6} | {'client':>6} {'gateway':>7} {'silos':>6} "
        f"{'per silo':>16} {'pg':>5} {'pg bg':>5} {'other':>5} {'busy':>5} {'WAL B':>6} {'rows/tx':>7} | {'raw pg':>6} {'raw WAL B':>9} {'idle silos':>10} {'load':>5}")
print("(ratio: of the medians; per silo: each silo process; pg: the database's backends, pg bg: its shared background\n"
      " processes; other: the rest of the machine; WAL B: WAL bytes per sample; rows/tx: samples per\n committed transaction of the database; idle silos: the silos' CPU ms per second\n"
      " during the raw COPY rounds, when no grain call reaches them but each follows a grain round (a silo with no\n"
      " runs at all takes ~11-13); load: 1-min load average before the invocation)")
print(head)
summary = []
for n in sorted({r["silos"] for r in runs}):
    mine = [r for r in runs if r["silos"] == n]
    g = [c for r in mine for c in r["grain_rounds_cpu_per_1k"]]
    w = [c for r in mine for c in r["raw_rounds_cpu_per_1k"]]
    per_silo = [round(med(c["per_silo"][i] for c in g), 1) for i in range(n)]
    row = {
        "silos": n, "invocations": len(mine),
        "samples_per_s": med(x for r in mine for x in r["grain_rounds_per_s"]),
        "raw_copy_per_s": med(x for r in mine for x in r["raw_rounds_per_s"]),
        "ratio": med(r["ratio"] for r in mine),
        "cpu_ms_per_1k": {k: round(part(g, k), 1) for k in ("client", "gateway", "silos", "pg_backends", "pg_background", "other")},
        "per_silo_ms_per_1k": per_silo,
        "machine_busy": round(part(g, "machine_busy"), 3),
        "wal_bytes_per_sample": round(part(g, "wal_bytes_per_row")),
        "raw_cpu_ms_per_1k": {k: round(part(w, k), 1) for k in ("client", "pg_backends", "pg_background", "other")},
        "raw_wal_bytes_per_row": round(part(w, "wal_bytes_per_row")),
        "idle_silos_ms_per_s": round(part(w, "silos_ms_per_s"), 1),
        "rows_per_commit": round(part(g, "rows_per_commit"), 1),
        "load_average_before": [r["load_average_before"] for r in mine],
        "verified": all(r["verified"] for r in mine),
    }
    summary.append(row)
    c = row["cpu_ms_per_1k"]
    print(f"{n:>5} {row['samples_per_s']:>10,.0f} {row['raw_copy_per_s']:>10,.0f} {row['ratio']:>6.3f} | {c['client']:>6} {c['gateway']:>7} "
          f"{c['silos']:>6} {' + '.join(f'{x:g}' for x in per_silo):>16} {c['pg_backends']:>5} {c['pg_background']:>5} {c['other']:>5} "
          f"{row['machine_busy']:>5.0%} {row['wal_bytes_per_sample']:>6} {row['rows_per_commit']:>7} | {row['raw_cpu_ms_per_1k']['pg_backends']:>6} "
          f"{row['raw_wal_bytes_per_row']:>9} {row['idle_silos_ms_per_s']:>10} {mine[0]['load_average_before'].split()[0]:>5}")
t = runs[-1]["samples_table"]
print(f"\noptimization_samples after the last invocation: {t['rows']:,} rows, {t['total_bytes'] / 2**20:,.0f} MiB with indexes = "
      f"{t['bytes_per_row']:.0f} bytes per sample (heap {t['heap_bytes'] / t['rows']:.0f}, TOAST and maps "
      f"{t['toast_and_maps_bytes'] / t['rows']:.0f}, indexes {(t['total_bytes'] - t['heap_bytes'] - t['toast_and_maps_bytes']) / t['rows']:.0f})")
for name, size in t["index_bytes"].items():
    print(f"  {name:<50} {size / t['rows']:6.1f} bytes per sample")
print(f"every round's database count equals what was acknowledged: {'yes' if all(r['verified'] for r in runs) else 'NO'}")
print(json.dumps({"via": via, "by_silos": summary, "samples_table": t, "invocations": runs}))
PY
