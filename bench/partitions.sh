#!/usr/bin/env bash
# Partitioned vs plain samples, in SQL as the service role (what the silo runs), same data, same run: two databases
# on this checkout's local PostgreSQL, one migrated to the end (samples hash-partitioned by run, migration 0014),
# one with 0014 rolled back (the plain table). In each, alternating rounds of
#   1. the trace lookup (GET /traces/{traceId}/samples: SampleQueries.TraceSql, a random sample's trace id) and
#   2. a run-scoped read (GET /runs/{id}/samples, first page of a random run),
# then DELETEs of heavy runs (13 iterations × 1,000 samples, the cascade from optimization_runs, one per commit),
# then 2. again after the deletes (autovacuum off for the samples, so their dead rows stay: the worst case) and
# after VACUUM. Latencies from pgbench's per-transaction log, one client, prepared statements (as the silo's
# Max Auto Prepare does; --protocol simple re-plans every statement); medians of the rounds' p50 and p95.
# The last line printed is one JSON object. Drops its databases at the end.
set -euo pipefail
configuration="${CONFIGURATION:-Release}"
. "$(dirname "$0")/lib.sh"
CONFIGURATION=$configuration

usage() {
  cat <<'TXT'
Usage: bench/partitions.sh [options]
  --runs N            ordinary runs (default 2000), each --iterations × --samples samples
  --iterations N      iterations per ordinary run (default 5)
  --samples N         samples per iteration of an ordinary run (default 100)
  --heavy N           heavy runs (13 iterations × 1,000 samples) loaded and then deleted (default 20)
  --seconds S         length of one measured round (default 8)
  --repeat N          rounds of each layout per measurement, alternating (default 3)
  --keep-databases    do not drop the two databases at the end
  --protocol P        pgbench's query mode: prepared (default, as the silo) or simple (planned every time)
  --no-build          use the silo already built (CONFIGURATION, default Release) for the migrations
Environment: OPTRUNS_PG_PORT picks the local PostgreSQL. Builds the silo (Release) for its migrations.
TXT
}

runs=2000; iterations=5; samples=100; heavy=20; seconds=8; repeat=3; build=1; protocol=prepared
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs) runs="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --heavy) heavy="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --keep-databases) BENCH_KEEP_DATABASE=1; shift ;;
    --no-build) build=0; shift ;;
    --protocol) protocol="$2"; shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

project=00000000-0000-4000-8000-00000000b0b0
layouts=(plain partitioned)
declare -A databases=([plain]="optruns_pbench_plain_$$" [partitioned]="optruns_pbench_hash_$$")
work=$(mktemp -d); temp_paths+=("$work")

ensure_local_postgres
[ "$build" = 0 ] || build_solution "$CONFIGURATION"
bin=$(pg_bindir)

# Same rows in both: run ids and trace ids are functions of their numbers. Ordinary runs first, then the heavy ones,
# nine samples in ten with a trace id of their own, ~230-byte inputs.
load_sql() {
  cat <<SQL
INSERT INTO project_config (id, name) VALUES ('$project', 'partition bench');
INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, status)
SELECT md5('run' || r)::uuid, '$project', 'run ' || r, 'miprov2', 'completed' FROM generate_series(1, $runs) r;
INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, status)
SELECT md5('heavy' || h)::uuid, '$project', 'heavy ' || h, 'miprov2', 'completed' FROM generate_series(1, $heavy) h;
INSERT INTO optimization_iterations (run_id, project_id, iteration)
SELECT md5('run' || r)::uuid, '$project', i FROM generate_series(1, $runs) r, generate_series(1, $iterations) i;
INSERT INTO optimization_iterations (run_id, project_id, iteration)
SELECT md5('heavy' || h)::uuid, '$project', i FROM generate_series(1, $heavy) h, generate_series(1, 13) i;
INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, score, success, trace_id)
SELECT md5('run' || r)::uuid, '$project', i, s, 'ex-' || s, jsonb_build_object('question', repeat('q', 200) || s),
       (s % 5) / 4.0, s % 7 <> 0,
       CASE WHEN s % 10 <> 0 THEN md5((((r - 1) * $iterations + (i - 1)) * $samples + s)::text) END
FROM generate_series(1, $runs) r, generate_series(1, $iterations) i, generate_series(0, $samples - 1) s;
INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, score, success)
SELECT md5('heavy' || h)::uuid, '$project', i, s, 'ex-' || s, jsonb_build_object('question', repeat('q', 200) || s),
       (s % 5) / 4.0, s % 7 <> 0
FROM generate_series(1, $heavy) h, generate_series(1, 13) i, generate_series(0, 999) s;
SQL
}

# Autovacuum off for the samples (every partition too), so the deletes' dead rows are still there when measured.
no_autovacuum_sql="DO \$\$ DECLARE t regclass; BEGIN
  FOR t IN SELECT 'optimization_samples'::regclass WHERE (SELECT relkind FROM pg_class WHERE oid = 'optimization_samples'::regclass) = 'r'
           UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'optimization_samples'::regclass LOOP
    EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false)', t);
  END LOOP; END \$\$;"

for l in "${layouts[@]}"; do
  db=${databases[$l]}
  drop_database "$db"; bench_own_database "$db"
  dotnet "$(silo_dll "$CONFIGURATION")" migrate up >"$work/migrate-$l.log" 2>&1
  if [ "$l" = plain ]; then
    steps=$(psql_super -d "$db" -Atc "SELECT count(*) FROM schema_migrations WHERE version >= 14")
    dotnet "$(silo_dll "$CONFIGURATION")" migrate down "$steps" >>"$work/migrate-$l.log" 2>&1
  fi
  started=$(date +%s)
  load_sql | psql_super -d "$db" -q -v ON_ERROR_STOP=1 >/dev/null
  psql_super -d "$db" -q -c "$no_autovacuum_sql" -c "VACUUM ANALYZE optimization_runs, optimization_iterations, optimization_samples" >/dev/null
  log "$l: loaded $((runs * iterations * samples + heavy * 13000)) samples in $(( $(date +%s) - started )) s ($(psql_super -d "$db" -Atc "SELECT relkind FROM pg_class WHERE oid = 'optimization_samples'::regclass"))"
done

cat >"$work/trace.sql" <<SQL
\set n random(0, $((runs * iterations * samples - 1)))
SELECT run_id, iteration, sample_index, example_id, inputs, score, success, trace_id FROM optimization_samples
WHERE trace_id = md5((:n)::text) AND (run_id, iteration, sample_index) > ('00000000-0000-0000-0000-000000000000'::uuid, -1, -1)
ORDER BY run_id, iteration, sample_index LIMIT 100;
SQL
cat >"$work/page.sql" <<SQL
\set r random(1, $runs)
SELECT run_id, iteration, sample_index, example_id, inputs, score, success, trace_id FROM optimization_samples
WHERE run_id = md5('run' || :r)::uuid ORDER BY iteration, sample_index LIMIT 100;
SQL

# One pgbench round as the service role with the project set (row-level security applies); prints "p50 p95" in ms.
round() {
  local db=$1 script=$2 prefix="$work/log-$RANDOM"
  (cd "$work" && PGPASSWORD="$SERVICE_PASSWORD" PGOPTIONS="-c app.project_id=$project" \
    "$bin/pgbench" -n -h 127.0.0.1 -p "$OPTRUNS_PG_PORT" -U optruns_service -c 1 -j 1 -T "$seconds" -M "$protocol" \
      -f "$script" -l --log-prefix="$prefix" "$db" >/dev/null 2>&1)
  cat "$prefix".* | awk '{ print $3 / 1000 }' | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f %.3f %d\n", v[int(NR * 0.5) + 1], v[int(NR * 0.95) + 1], NR }'
  rm -f "$prefix".*
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A result
measure() {
  local name=$1 script=$2 l i out
  for l in "${layouts[@]}"; do : >"$work/$name-$l.p50"; : >"$work/$name-$l.p95"; done
  for ((i = 0; i < repeat; i++)); do
    for l in "${layouts[@]}"; do
      out=$(round "${databases[$l]}" "$script")
      echo "${out%% *}" >>"$work/$name-$l.p50"; out=${out#* }; echo "${out%% *}" >>"$work/$name-$l.p95"
    done
  done
  for l in "${layouts[@]}"; do
    result[$name-$l-p50]=$(median <"$work/$name-$l.p50"); result[$name-$l-p95]=$(median <"$work/$name-$l.p95")
    log "$name $l: p50 ${result[$name-$l-p50]} ms, p95 ${result[$name-$l-p95]} ms (medians of $repeat rounds of ${seconds} s; p50s $(tr '\n' ' ' <"$work/$name-$l.p50"))"
  done
}

log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure trace "$work/trace.sql"
measure page_before "$work/page.sql"

for l in "${layouts[@]}"; do
  for ((h = 1; h <= heavy; h++)); do echo "DELETE FROM optimization_runs WHERE id = md5('heavy$h')::uuid;"; done \
    | psql_super -d "${databases[$l]}" -v ON_ERROR_STOP=1 -c '\timing on' -f - | awk '/^Time:/ { print $2 }' >"$work/delete-$l"
  result[delete-$l-p50]=$(sort -n "$work/delete-$l" | awk '{ v[NR] = $1 } END { print v[int(NR * 0.5) + 1] }')
  result[delete-$l-p95]=$(sort -n "$work/delete-$l" | awk '{ v[NR] = $1 } END { print v[int(NR * 0.95) + 1] }')
  log "delete of a 13,000-sample run, $l: p50 ${result[delete-$l-p50]} ms, p95 ${result[delete-$l-p95]} ms (sorted: $(sort -n "$work/delete-$l" | tr '\n' ' '))"
  log "  dead sample rows left, $l: $(psql_super -d "${databases[$l]}" -Atc "SELECT sum(n_dead_tup) FROM pg_stat_user_tables WHERE relname LIKE 'optimization_samples%'")"
done

measure page_after_deletes "$work/page.sql"
for l in "${layouts[@]}"; do
  started=$(date +%s%N)
  psql_super -d "${databases[$l]}" -q -c "VACUUM ANALYZE optimization_samples" >/dev/null
  log "VACUUM ANALYZE optimization_samples, $l: $(( ($(date +%s%N) - started) / 1000000 )) ms"
done
measure page_after_vacuum "$work/page.sql"
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

json="{\"samples\": $((runs * iterations * samples + heavy * 13000)), \"heavy_runs\": $heavy, \"protocol\": \"$protocol\""
for k in $(printf '%s\n' "${!result[@]}" | sort); do json+=", \"${k//-/_}_ms\": ${result[$k]}"; done
echo "$json}"
