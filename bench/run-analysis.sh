#!/usr/bin/env bash
# Run analysis benchmark at the size of a heavy MIPROv2 run (50 trials, 4 predictors with 10 instruction and 10 demo-set
# candidates each, full evaluations of 1,000 examples: 13,000 samples): GET …/trajectory, …/candidates, …/examples,
# /compare and /compare/examples, and GET …/export of a 1,000,000-sample run in both formats, through the real gateway
# and silo processes; next to each, its SQL baseline measured in the same invocation (bench/Queries analysis-baseline:
# the silo's data classes in-process, the same statements under the same role, no grain or HTTP; for the export, one
# COPY … TO STDOUT of the same rows). Sets up a
# database of its own on this checkout's local PostgreSQL, builds Release, starts one silo and one gateway on their own
# ports, makes a project and key through the admin API, loads the runs with SQL as the schema owner (INSERT … SELECT
# over generate_series: no client in between), measures, stops everything and drops the database. Latencies are
# curl's time_total over one kept-alive connection; the export's resident memory (VmRSS) of the gateway and the silo is
# sampled every 100 ms. The last line printed is one JSON object.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  cat <<'TXT'
Usage: bench/run-analysis.sh [options]

Options:
  --silo-port N          the silo's silo-to-silo port (default 11461)
  --gateway-port N       the silo's Orleans gateway port (default 30461)
  --http-port N          the gateway listens on 127.0.0.1:N (default 8461)
  --requests N           measured requests per read pattern, sequential (default 300)
  --warmup N             unmeasured requests per read pattern and warm-up round (default 50)
  --warmup-seconds S     warm-up rounds over every pattern go on for at least S seconds (default 15): the runtimes'
                         tiered JIT needs ~1,000 requests before a read runs at its steady speed
  --rounds N             the measured requests come in N rounds, each visiting every pattern (default 5)
  --export-samples N     samples of the export run (default 1000000; 100 iterations of N/100)
  --exports N            measured exports per format (default 2)
  --background-runs N    other heavy runs in the same project, so the tables are not just the measured runs (default 10)
  --keep-database        do not drop the benchmark database at the end (its name is printed)
  --database NAME        use this database (e.g. one kept earlier) instead of a new optruns_abench_<pid>
  --skip-load            the database already holds the runs (with --database; the ids are read back from it)

Environment: OPTRUNS_PG_PORT (default 54329) picks the local PostgreSQL; BENCH_SILO_ENV and BENCH_GATEWAY_ENV may hold
extra KEY=VALUE settings for the silo and the gateway. Logs: .data/logs/bench-analysis-{silo,gateway}.log. Takes
about 3–5 minutes on 2 cores (loading the 1M-sample run ~1–2 min), plus the build.
TXT
}

silo_port=11461
gateway_port=30461
http_port=8461
requests=300
warmup=50
warmup_seconds=15
rounds=5
export_samples=1000000
exports=2
background_runs=10
skip_load=0
database_name=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --silo-port) silo_port="${2:?--silo-port needs a value}"; shift 2 ;;
    --gateway-port) gateway_port="${2:?--gateway-port needs a value}"; shift 2 ;;
    --http-port) http_port="${2:?--http-port needs a value}"; shift 2 ;;
    --requests) requests="${2:?--requests needs a value}"; shift 2 ;;
    --warmup) warmup="${2:?--warmup needs a value}"; shift 2 ;;
    --warmup-seconds) warmup_seconds="${2:?--warmup-seconds needs a value}"; shift 2 ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
    --export-samples) export_samples="${2:?--export-samples needs a value}"; shift 2 ;;
    --exports) exports="${2:?--exports needs a value}"; shift 2 ;;
    --background-runs) background_runs="${2:?--background-runs needs a value}"; shift 2 ;;
    --keep-database) BENCH_KEEP_DATABASE=1; shift ;;
    --database) database_name="${2:?--database needs a value}"; BENCH_KEEP_DATABASE=1; shift 2 ;;
    --skip-load) skip_load=1; shift ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
[ "$skip_load" = 0 ] || [ -n "$database_name" ] || die "--skip-load needs --database"
[ "$rounds" -ge 1 ] && [ $((requests % rounds)) = 0 ] || die "--requests ($requests) must be a multiple of --rounds ($rounds)"
[ "$background_runs" -ge 1 ] || die "--background-runs must be at least 1: the first is the other side of /compare"
command -v curl >/dev/null || die "curl is needed"

bench_require_free_ports "$silo_port" "$gateway_port" "$http_port"
work=$(mktemp -d)
temp_paths+=("$work")
bench_database "${database_name:-optruns_abench_$$}" bench/Queries/OptimizationRuns.Bench.Queries.csproj
owner_psql() {
  PGPASSWORD="$OWNER_PASSWORD" PGCONNECT_TIMEOUT=5 "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$OPTRUNS_PG_PORT" \
    -U optruns_owner -d "$database" "$@"
}

bench_new_admin_key
log "starting the silo (log $logs/bench-analysis-silo.log)"
bench_start_silo analysis "$silo_port" "$gateway_port"
log "starting the gateway on 127.0.0.1:$http_port (log $logs/bench-analysis-gateway.log)"
bench_start_gateway bench-analysis-gateway "$http_port" "$gateway_port"
base="http://127.0.0.1:$http_port"
bench_wait_ready "$base" analysis
log "silo and gateway ready"

json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
admin_post() { curl -fsS -X POST -H "Authorization: Bearer $OPTRUNS_ADMIN_KEY" -H 'Content-Type: application/json' -d "$2" "$base$1"; }

# ───────────────────────────── data ─────────────────────────────

# One run of iterations 0…trials-1 (0 baseline, every full_every-th full, the others minibatches of `minibatch`
# examples drawn from a dev set of `devset`), samples with question/context inputs, ~3% failed, scores 0/1 whose
# odds depend on the example's difficulty and the trial's quality; then the iterations' totals as the ingest keeps them.
load_run_sql() { # project run trials devset minibatch full_every seed
  cat <<SQL
SELECT setseed($7);
CREATE TEMP TABLE IF NOT EXISTS words AS SELECT ARRAY['the','film','director','born','which','album','released','river',
  'city','county','population','founded','university','author','novel','band','singer','team','league','season',
  'station','railway','company','headquarters','american','british','french','war','battle','king','queen','empire',
  'island','mountain','lake','capital','state','district','church','museum','award','won','nominated','series',
  'television','episode','character','played','role','actor','published','magazine','newspaper','game','developed',
  'designed','built','century','year','first','second','largest','oldest','named','after','known','as','also','both',
  'same','country','who','what','when','where','"quoted"','comma,separated'] AS w;
DROP TABLE IF EXISTS examples; DROP TABLE IF EXISTS trials;
CREATE TEMP TABLE examples AS
SELECT e, 'ex-' || lpad(e::text, 5, '0') AS example_id, jsonb_build_object('question', q.t || '?', 'context', c.t) AS inputs,
       jsonb_build_object('answer', a.t) AS expected, random() AS difficulty
FROM generate_series(0, $4 - 1) e,
     LATERAL (SELECT string_agg(w[1 + floor(random() * cardinality(w))::int], ' ') AS t FROM words, generate_series(1, 7 + e % 12 + e * 0)) q,
     LATERAL (SELECT string_agg(w[1 + floor(random() * cardinality(w))::int], ' ') AS t FROM words, generate_series(1, 14 + e % 21 + e * 0)) c,
     LATERAL (SELECT string_agg(w[1 + floor(random() * cardinality(w))::int], ' ') AS t FROM words, generate_series(1, 1 + e % 4 + e * 0)) a;
CREATE TEMP TABLE trials AS
SELECT i, CASE WHEN i = 0 THEN 'baseline' WHEN i % $6 = 0 THEN 'full' ELSE 'minibatch' END AS kind, 0.35 + 0.3 * random() AS quality
FROM generate_series(0, $3 - 1) i;
INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, status, start_time)
VALUES ('$2', '$1', 'bench-analysis-$2', 'miprov2', 'running', now() - interval '2 hours');
INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, params, started_at, completed_at)
SELECT '$2', '$1', i, kind,
       jsonb_build_object('predictors', (SELECT jsonb_object_agg(p::text, jsonb_build_object(
           'instruction', CASE WHEN i = 0 THEN 0 ELSE floor(random() * 10)::int END,
           'demos', CASE WHEN i = 0 THEN 0 ELSE floor(random() * 10)::int END)) FROM generate_series(0, 3 + i * 0) p)),
       now() - interval '1 hour' + i * interval '1 minute', now() - interval '1 hour' + i * interval '1 minute' + interval '40 seconds'
FROM trials;
-- 4 predictors × (10 instructions of ~60–100 words + 10 demo sets of 4 demos), as MIPROv2 proposes them.
INSERT INTO optimization_candidates (run_id, project_id, predictor, kind, idx, text, demos)
SELECT '$2'::uuid, '$1'::uuid, p::text, 'instruction', c,
       (SELECT string_agg(w[1 + floor(random() * cardinality(w))::int], ' ') FROM words, generate_series(1, 60 + (p * 10 + c) % 41)), NULL::jsonb
FROM generate_series(0, 3) p, generate_series(0, 9) c
UNION ALL
SELECT '$2'::uuid, '$1'::uuid, p::text, 'demos', c, NULL,
       (SELECT jsonb_agg(jsonb_build_object(
            'question', (SELECT string_agg(w[1 + floor(random() * cardinality(w))::int], ' ') FROM words, generate_series(1, 15 + d * 0)),
            'context', (SELECT string_agg(w[1 + floor(random() * cardinality(w))::int], ' ') FROM words, generate_series(1, 20 + d * 0)),
            'answer', (SELECT w[1 + floor(random() * cardinality(w))::int + d * 0] FROM words)))
        FROM generate_series(1, 4 + (p * 10 + c) * 0) d)
FROM generate_series(0, 3) p, generate_series(0, 9) c;
INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, expected, prediction,
    score, success, error, latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id, created_at)
SELECT '$2', '$1', t.i, k, x.example_id, x.inputs, x.expected,
       CASE WHEN o.failed THEN NULL ELSE jsonb_build_object('reasoning', 'The context names ' || x.example_id || ', so the answer follows.',
            'answer', CASE WHEN o.good THEN x.expected->>'answer' ELSE 'unknown' END) END,
       CASE WHEN o.good AND NOT o.failed THEN 1 ELSE 0 END, NOT o.failed,
       CASE WHEN o.failed THEN 'litellm.Timeout: APITimeoutError - Request timed out after 30.0 seconds' END,
       300 + 900 * o.r, 400 + k % 300, 40 + k % 60, 0.000180,
       CASE WHEN k % 5 < 2 THEN md5(t.i || ':' || k || '$2') END, CASE WHEN k % 5 < 2 THEN left(md5(k || '$2'), 16) END,
       now() - interval '1 hour' + t.i * interval '1 minute' + k * interval '40 milliseconds'
FROM trials t
CROSS JOIN LATERAL generate_series(0, CASE WHEN t.kind = 'minibatch' THEN $5 ELSE $4 END - 1) k
JOIN examples x ON x.e = CASE WHEN t.kind = 'minibatch' THEN (hashint4(t.i * 100003 + k) & 2147483647) % $4 ELSE k END
CROSS JOIN LATERAL (SELECT random() AS r, random() AS g) rr
CROSS JOIN LATERAL (SELECT rr.r < 0.03 AS failed, rr.g < t.quality + 0.5 - x.difficulty AS good, rr.r) o;
UPDATE optimization_iterations i SET samples_evaluated = s.n, samples_successful = s.ok, samples_failed = s.n - s.ok,
    prompt_tokens = s.pt, completion_tokens = s.ct, cost_usd = s.cost, score = s.score
FROM (SELECT iteration, count(*) AS n, count(*) FILTER (WHERE success) AS ok, sum(prompt_tokens) AS pt,
             sum(completion_tokens) AS ct, sum(cost_usd) AS cost, round(avg(score), 4) AS score
      FROM optimization_samples WHERE run_id = '$2' GROUP BY iteration) s
WHERE i.run_id = '$2' AND i.iteration = s.iteration;
SQL
}

uuid() { cat /proc/sys/kernel/random/uuid; }
load_seconds=0
if [ "$skip_load" = 0 ]; then
  project=$(admin_post /api/projects '{"name":"bench-analysis"}' | json_field id)
  [ -n "$project" ] || die "could not create the project"
  heavy_run=$(uuid)
  export_run=$(uuid)
  start=$(date +%s.%N)
  other_run=$(uuid)
  log "loading the heavy run (50 trials, 13,000 samples) and $background_runs others like it (the first: the other side of /compare)"
  load_run_sql "$project" "$heavy_run" 50 1000 75 5 0.11 | owner_psql
  for n in $(seq 1 "$background_runs"); do
    if [ "$n" = 1 ]; then run=$other_run; else run=$(uuid); fi
    load_run_sql "$project" "$run" 50 1000 75 5 "0.$n" | owner_psql
  done
  log "loading the export run: $export_samples samples in 100 iterations"
  load_run_sql "$project" "$export_run" 100 $((export_samples / 100)) $((export_samples / 100)) 10 0.77 | owner_psql
  log "VACUUM ANALYZE"
  owner_psql -c "VACUUM (ANALYZE) optimization_samples" -c "VACUUM (ANALYZE) optimization_iterations" -c "VACUUM (ANALYZE) optimization_runs"
  load_seconds=$(echo "$(date +%s.%N) - $start" | bc)
  owner_psql -c "COMMENT ON DATABASE \"$database\" IS 'bench-analysis heavy=$heavy_run export=$export_run project=$project other=$other_run'"
else
  comment=$(owner_psql -t -A -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
  heavy_run=$(sed -n 's/.*heavy=\([^ ]*\).*/\1/p' <<<"$comment")
  export_run=$(sed -n 's/.*export=\([^ ]*\).*/\1/p' <<<"$comment")
  project=$(sed -n 's/.*project=\([^ ]*\).*/\1/p' <<<"$comment")
  other_run=$(sed -n 's/.*other=\([^ ]*\).*/\1/p' <<<"$comment")
  [ -n "$heavy_run" ] && [ -n "$export_run" ] && [ -n "$other_run" ] || die "$database holds no runs of this benchmark (of this version)"
fi
key=$(admin_post "/api/projects/$project/api-keys" '{"name":"bench-analysis"}' | json_field key)
[ -n "$key" ] || die "could not create an API key"
read -r heavy_samples export_rows sample_bytes < <(owner_psql -t -A -F ' ' -c "
  SELECT (SELECT count(*) FROM optimization_samples WHERE run_id = '$heavy_run'),
         (SELECT count(*) FROM optimization_samples WHERE run_id = '$export_run'),
         (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('optimization_samples'))")
log "heavy run $heavy_run: $heavy_samples samples; export run $export_run: $export_rows samples; optimization_samples $((sample_bytes / 1048576)) MiB"

# ───────────────────────────── latency ─────────────────────────────

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_url="$base/api/optimization/runs/$heavy_run"
compare_url="$base/api/optimization/compare"
cursor=$(curl -fsS -H "Authorization: Bearer $key" "$run_url/examples?limit=50" | json_field nextCursor)
flaky_cursor=$(curl -fsS -H "Authorization: Bearer $key" "$run_url/examples?sort=flakiest&limit=50" | json_field nextCursor)
patterns=(trajectory candidates compare compare_baseline compare_examples examples_hardest examples_flakiest examples_next_page examples_kind_full)
# Each pattern's URLs, space-separated; a pattern's requests cycle through them.
declare -A pattern_urls=(
  [trajectory]="$run_url/trajectory"
  [candidates]="$run_url/candidates"
  [compare]="$compare_url?a=$heavy_run&b=$other_run"
  [compare_baseline]="$compare_url?a=$heavy_run&aIteration=0&b=$heavy_run"
  [compare_examples]="$compare_url/examples?a=$heavy_run&b=$other_run&bucket=regressed"
  [examples_hardest]="$run_url/examples"
  [examples_flakiest]="$run_url/examples?sort=flakiest"
  [examples_next_page]="$run_url/examples?cursor=$cursor $run_url/examples?sort=flakiest&cursor=$flaky_cursor"
  [examples_kind_full]="$run_url/examples?kind=full&minEvaluations=5"
)
# $1 pattern, $2 requests, $3 file to append "code seconds" lines to (none: unmeasured); one kept-alive connection.
requests_of() {
  local urls i args=()
  read -r -a urls <<<"${pattern_urls[$1]}"
  for ((i = 0; i < $2; i++)); do args+=(-o /dev/null "${urls[i % ${#urls[@]}]}"); done
  if [ -z "${3:-}" ]; then curl -sS -H "Authorization: Bearer $key" "${args[@]}"; return; fi
  curl -sS -H "Authorization: Bearer $key" -w '%{http_code} %{time_total}\n' "${args[@]}" >>"$3"
}
# Warm-up: every pattern in turn until warmup_seconds have passed, so the runtimes' tiered JIT has compiled the hot
# code of all of them (a pattern measured straight after start-up ran 2-3x slower for its first ~1,000 requests);
# then a pause for the background tier-1 compilations to finish.
log "warm-up: rounds of $warmup requests per pattern for at least $warmup_seconds s"
warm_started=$SECONDS
while :; do
  for pattern in "${patterns[@]}"; do requests_of "$pattern" "$warmup"; done
  [ $((SECONDS - warm_started)) -lt "$warmup_seconds" ] || break
done
sleep 5
# Measured in rounds, each visiting every pattern, so load from elsewhere on the machine hits all of them alike.
log "measuring: $requests requests per pattern in $rounds rounds"
for ((round = 0; round < rounds; round++)); do
  for pattern in "${patterns[@]}"; do
    requests_of "$pattern" $((requests / rounds)) "$work/$pattern.times"
  done
done
declare -A latency
for pattern in "${patterns[@]}"; do
  if grep -qv '^200 ' "$work/$pattern.times"; then die "$pattern: a request did not answer 200: $(grep -v '^200 ' "$work/$pattern.times" | head -1)"; fi
  # "p50 p95 p99 max" in ms, nearest rank.
  latency[$pattern]=$(awk '{ print $2 * 1000 }' "$work/$pattern.times" | sort -n | awk '{ v[NR] = $1 } END {
    printf "%.2f %.2f %.2f %.2f\n", v[int(NR * 0.50 + 0.999)], v[int(NR * 0.95 + 0.999)], v[int(NR * 0.99 + 0.999)], v[NR] }')
done

# ───────────────────────────── SQL baseline ─────────────────────────────

log "SQL baseline: the same reads through the silo's data classes in this process, and COPY of the export run"
dotnet "$OPTRUNS_ROOT/bench/Queries/bin/$CONFIGURATION/net10.0/OptimizationRuns.Bench.Queries.dll" analysis-baseline \
  --project "$project" --run "$heavy_run" --other-run "$other_run" --export-run "$export_run" \
  --requests "$requests" --rounds "$rounds" --warmup "$warmup" --warmup-seconds "$warmup_seconds" --copies "$exports" >"$work/sql.out" || die "the SQL baseline failed: $(tail -5 "$work/sql.out")"
declare -A sql_latency
while read -r name p50 p95 p99 max; do sql_latency[$name]="$p50 $p95 $p99 $max"; done < <(grep -E '^[a-z_]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' "$work/sql.out")
sql_json=$(tail -1 "$work/sql.out")

# ───────────────────────────── export ─────────────────────────────

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# $1 format: one export of the export run; prints "seconds bytes rows gateway_rss_growth_mb silo_rss_growth_mb gateway_cpu_s silo_cpu_s".
export_once() {
  local format=$1 sampler
  local g0 s0 gc0 sc0 gc1 sc1 hz
  hz=$(getconf CLK_TCK)
  g0=$(rss_kb "$gateway_pid"); s0=$(rss_kb "$silo_pid"); gc0=$(cpu_ticks "$gateway_pid"); sc0=$(cpu_ticks "$silo_pid")
  ( while :; do echo "$(rss_kb "$gateway_pid") $(rss_kb "$silo_pid")"; sleep 0.1; done ) >"$work/rss" &
  sampler=$!
  # Counted as it arrives, never stored: records, not lines, for CSV (a quoted cell may hold a line break; CRLF ends a record).
  local rows
  if [ "$format" = csv ]; then
    rows=$(curl -fsS -H "Authorization: Bearer $key" -w '%{stderr}%{time_total} %{size_download}\n' \
      "$base/api/optimization/runs/$export_run/export?format=csv&what=samples" 2>"$work/export.time" | grep -c $'\r$' || true)
    rows=$((rows - 1))
  else
    rows=$(curl -fsS -H "Authorization: Bearer $key" -w '%{stderr}%{time_total} %{size_download}\n' \
      "$base/api/optimization/runs/$export_run/export?format=jsonl&what=samples" 2>"$work/export.time" | wc -l)
  fi
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  gc1=$(cpu_ticks "$gateway_pid"); sc1=$(cpu_ticks "$silo_pid")
  read -r seconds bytes <"$work/export.time"
  awk -v g0="$g0" -v s0="$s0" -v t="$seconds" -v b="$bytes" -v r="$rows" -v gc=$((gc1 - gc0)) -v sc=$((sc1 - sc0)) -v hz="$hz" '
    { if ($1 > g) g = $1; if ($2 > s) s = $2 }
    END { printf "%.2f %d %d %.1f %.1f %.2f %.2f\n", t, b, r, (g - g0) / 1024, (s - s0) / 1024, gc / hz, sc / hz }' "$work/rss"
}
log "export warm-up (the heavy run, both formats)"
for format in jsonl csv; do
  curl -fsS -o /dev/null -H "Authorization: Bearer $key" "$run_url/export?format=$format"
done
declare -A export_result
for format in jsonl csv; do
  for n in $(seq 1 "$exports"); do
    log "export $n/$exports of $export_rows samples as $format"
    export_result[$format.$n]=$(export_once "$format")
    read -r seconds bytes rows g s gc sc <<<"${export_result[$format.$n]}"
    [ "$rows" = "$export_rows" ] || die "$format export $n: $rows rows, expected $export_rows"
    log "  $rows rows, $((bytes / 1048576)) MiB in $seconds s = $(echo "$rows / $seconds" | bc) samples/s; RSS growth gateway $g MB, silo $s MB; CPU gateway $gc s, silo $sc s"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "process $pid stopped during the benchmark: see $logs/bench-analysis-*.log"; done

# ───────────────────────────── report ─────────────────────────────

echo
echo "latency through HTTP, ms ($requests sequential requests per pattern in $rounds rounds, after ≥ $warmup_seconds s of warm-up; nearest-rank percentiles),"
echo "and the same read's SQL baseline (the silo's data classes in-process, same count)"
printf '%-20s %8s %8s %8s %8s   %8s %8s   %s\n' pattern p50 p95 p99 max "sql p50" "sql p95" target
for pattern in "${patterns[@]}"; do
  read -r p50 p95 p99 max <<<"${latency[$pattern]}"
  read -r s50 s95 _ _ <<<"${sql_latency[$pattern]:-- - - -}"
  target=$(case "$pattern" in trajectory|candidates) echo 10 ;; *) echo 20 ;; esac)
  printf '%-20s %8s %8s %8s %8s   %8s %8s   p95 ≤ %s: %s\n' "$pattern" "$p50" "$p95" "$p99" "$max" "$s50" "$s95" "$target" \
    "$(awk -v p="$p95" -v t="$target" 'BEGIN { print (p <= t) ? "met" : "MISSED" }')"
done
echo
echo "export of $export_rows samples through HTTP (curl, counted as it arrives); RSS growth = peak during the export − before it"
printf '%-10s %8s %10s %12s %14s %12s %10s %10s\n' run seconds MiB samples/s "gateway RSS+MB" "silo RSS+MB" "gw CPU s" "silo CPU s"
json_exports=""
for format in jsonl csv; do
  for n in $(seq 1 "$exports"); do
    read -r seconds bytes rows g s gc sc <<<"${export_result[$format.$n]}"
    rate=$(echo "$rows / $seconds" | bc)
    printf '%-10s %8s %10s %12s %14s %12s %10s %10s\n' "$format $n" "$seconds" "$((bytes / 1048576))" "$rate" "$g" "$s" "$gc" "$sc"
    json_exports+="${json_exports:+,}{\"format\":\"$format\",\"seconds\":$seconds,\"bytes\":$bytes,\"rows\":$rows,\"samples_per_s\":$rate,\"gateway_rss_growth_mb\":$g,\"silo_rss_growth_mb\":$s,\"gateway_cpu_s\":$gc,\"silo_cpu_s\":$sc}"
  done
done
grep '^COPY' "$work/sql.out" | sed 's/^/SQL baseline: /'
echo
echo "load average before measuring: $load_before; after: $load_after"
json_latency=""
for pattern in "${patterns[@]}"; do
  read -r p50 p95 p99 max <<<"${latency[$pattern]}"
  json_latency+="${json_latency:+,}\"$pattern\":{\"p50_ms\":$p50,\"p95_ms\":$p95,\"p99_ms\":$p99,\"max_ms\":$max}"
done
printf '{"latency":{%s},"exports":[%s],"sql":%s,"data":{"heavy_run_samples":%s,"export_run_samples":%s,"samples_table_mib":%s,"load_seconds":%s},"load_average":{"before":"%s","after":"%s"}}\n' \
  "$json_latency" "$json_exports" "$sql_json" "$heavy_samples" "$export_rows" "$((sample_bytes / 1048576))" "$load_seconds" "$load_before" "$load_after"
