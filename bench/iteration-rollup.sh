#!/usr/bin/env bash
# What writing iterations costs with migration 0020's roll-up (once per run per INSERT, once per updated row) against
# 0001's two row triggers and against no trigger at all (the plain-SQL floor), same database, same run. Four shapes:
#   bulk     one INSERT … SELECT of every run's iterations (the benchmark loaders);
#   per-run  one INSERT per run of its iterations (a sample batch announcing its iterations, IngestStore);
#   single   one INSERT per run of one iteration (a trial recorded, the common product write);
#   update   one UPDATE per run of an iteration's score (a trial completed after its samples announced it).
# Each measurement is a transaction rolled back, as the owner, timed inside PostgreSQL (clock_timestamp); the row
# variant disables 0020's triggers and creates 0001's two row triggers in that transaction; a VACUUM after each
# removes its rolled-back rows. Variants alternate, each shape --repeat times; medians and the ratio to the row
# triggers. The last line printed is one JSON object.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/iteration-rollup.sh [options]
  --runs N        runs the measured inserts write to (default 2000)
  --background N  runs with 10 iterations each already there, analysed, so the planner sees a table in use
                  (default 20000)
  --iterations N  iterations per run in the bulk and per-run shapes (default 10)
  --repeat N      measurements of each variant per shape, alternating (default 5)
  --keep-database do not drop the database at the end
Environment: OPTRUNS_PG_PORT picks the local PostgreSQL. Builds the silo (Release) for its migrations.
TXT
}

runs=2000; iterations=10; repeat=5; background=20000
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs) runs="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --background) background="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

project=00000000-0000-4000-8000-00000000b1b1
bench_database "optruns_rollup_$$"
db=$database

psql_super -d "$db" -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
INSERT INTO project_config (id, name) VALUES ('$project', 'roll-up bench');
INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, status)
SELECT md5('run' || r)::uuid, '$project', 'run ' || r, 'miprov2', 'running' FROM generate_series(1, $runs) r;
INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, status)
SELECT md5('background' || r)::uuid, '$project', 'background ' || r, 'miprov2', 'completed' FROM generate_series(1, $background) r;
SET session_replication_role = replica;  -- the background's iterations without triggers: not what is measured
INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
SELECT md5('background' || r)::uuid, '$project', g, 'minibatch', (g % 10) / 10.0 FROM generate_series(1, $background) r, generate_series(0, 9) g;
RESET session_replication_role;
VACUUM ANALYZE optimization_runs, optimization_iterations;
SQL
log "database $db: $runs runs measured beside $background with 10 iterations each; bulk and per-run insert $iterations iterations per run, single one per run"

# A run's iterations: a baseline, minibatches, a full evaluation every fifth, scores in [0, 1].
values="g, CASE WHEN g = 0 THEN 'baseline' WHEN g % 5 = 0 THEN 'full' ELSE 'minibatch' END, ((g * 37 + r.n) % 100) / 100.0"
# One statement per measured run: a DO block running BODY for each, with run.id, run.project_id and run.n.
each_run() {
  printf '%s' "DO \$\$ DECLARE run record; BEGIN
      FOR run IN SELECT id, project_id, row_number() OVER (ORDER BY id) AS n FROM optimization_runs WHERE status = 'running' LOOP
        $1
      END LOOP; END \$\$;"
}
# The iterations FIRST..LAST of one run of the loop.
run_iterations() {
  printf '%s' "INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
        SELECT r.id, r.project_id, $values FROM (SELECT run.id, run.project_id, run.n) r, generate_series($1, $2) g;"
}
declare -A shape_sql=(
  [bulk]="INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
          SELECT r.id, r.project_id, $values FROM (SELECT id, project_id, row_number() OVER (ORDER BY id) AS n FROM optimization_runs WHERE status = 'running') r,
               generate_series(0, $((iterations - 1))) g;"
  [per_run]=$(each_run "$(run_iterations 0 $((iterations - 1)))")
  [single]=$(each_run "$(run_iterations 1 1)")
  [update]=$(each_run "UPDATE optimization_iterations SET score = ((run.n * 7) % 100) / 100.0 WHERE run_id = run.id AND iteration = 0;")
)
declare -A variant_sql=(
  [statement]=""
  [rows]="ALTER TABLE optimization_iterations DISABLE TRIGGER optimization_iterations_inserted;
          ALTER TABLE optimization_iterations DISABLE TRIGGER optimization_iterations_changed;
          CREATE TRIGGER bench_mark_best AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
              FOR EACH ROW EXECUTE FUNCTION optimization_iterations_mark_best();
          CREATE TRIGGER bench_rollup AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
              FOR EACH ROW EXECUTE FUNCTION optimization_iterations_rollup();"
  [none]="ALTER TABLE optimization_iterations DISABLE TRIGGER optimization_iterations_inserted;
          ALTER TABLE optimization_iterations DISABLE TRIGGER optimization_iterations_changed;"
)
# What a shape needs in place before it is timed: the update shape updates an iteration 0 of each run.
declare -A shape_setup=(
  [update]="INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
            SELECT id, project_id, 0, 'full', 0.5 FROM optimization_runs WHERE status = 'running';"
)
variants=(statement rows none)
shapes=(bulk per_run single update)

# One measurement: prints the insert's milliseconds.
measure_once() {
  psql_super -d "$db" -q -At -v ON_ERROR_STOP=1 <<SQL
BEGIN;
${variant_sql[$2]}
${shape_setup[$1]:-}
SELECT clock_timestamp() AS started \gset
${shape_sql[$1]}
SELECT round(extract(epoch FROM clock_timestamp() - :'started') * 1000, 1);
ROLLBACK;
SQL
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

work=$(mktemp -d); temp_paths+=("$work")
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
json="{\"runs\": $runs, \"iterations_per_run\": $iterations, \"repeat\": $repeat"
for shape in "${shapes[@]}"; do
  for ((i = 1; i <= repeat; i++)); do
    for variant in "${variants[@]}"; do
      measure_once "$shape" "$variant" | tail -1 >>"$work/$shape-$variant"
      psql_super -d "$db" -q -c "VACUUM optimization_iterations" >/dev/null  # the rolled-back rows, gone before the next
    done
    log "$shape: round $i of $repeat done"
  done
  declare -A med=()
  for variant in "${variants[@]}"; do
    med[$variant]=$(median <"$work/$shape-$variant")
    json+=", \"${shape}_${variant}_ms\": ${med[$variant]}"
  done
  ratio=$(awk -v s="${med[statement]}" -v r="${med[rows]}" 'BEGIN { printf "%.2f", s / r }')
  json+=", \"${shape}_statement_over_rows\": $ratio"
  log "$shape: 0020's triggers ${med[statement]} ms, 0001's row triggers ${med[rows]} ms, none ${med[none]} ms (medians; statement/rows $ratio; each: $(tr '\n' ' ' <"$work/$shape-statement")| $(tr '\n' ' ' <"$work/$shape-rows")| $(tr '\n' ' ' <"$work/$shape-none"))"
done
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$json}"
