using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Comparisons;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Per-example comparisons of two iterations, in the project's transaction. Each first resolves both sides (the run
/// visible under RLS, the iteration named or defaulted), then runs one statement on the two iterations' samples,
/// FULL JOINed on the example key: aggregated for a comparison, keyset-paged for its pairs.
/// </summary>
public sealed class ComparisonQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// The key samples are paired on: the example id, else "md5:" and the MD5 of the inputs' jsonb text (jsonb prints
    /// keys sorted and spaced its own way, so equal inputs hash equally however they were sent; no inputs hash as null).
    /// Byte order ("C"): cheap to sort and compare, and the order the keyset pages follow.
    /// </summary>
    public const string ExampleKey = """COALESCE(example_id, 'md5:' || md5(COALESCE(inputs, 'null'::jsonb)::text)) COLLATE "C" """;

    // Per side: the named iteration, or the best full evaluation (highest score, the earlier on a tie, as the run's best
    // is marked), else the baseline (a scored one first, then the earliest). A run the project cannot see has no row r.
    public const string ResolveSql = """
        SELECT s.side, r.id IS NOT NULL AS run_visible, i.iteration, i.kind, i.score
        FROM (VALUES ('a', @RunA, @IterationA), ('b', @RunB, @IterationB)) AS s (side, run_id, iteration)
        LEFT JOIN optimization_runs r ON r.id = s.run_id
        LEFT JOIN LATERAL (
            SELECT iteration, kind, score
            FROM optimization_iterations
            WHERE run_id = r.id
              AND CASE WHEN s.iteration IS NULL THEN kind = 'baseline' OR (kind = 'full' AND score IS NOT NULL)
                       ELSE iteration = s.iteration END
            ORDER BY kind = 'full' DESC, CASE WHEN kind = 'full' THEN score END DESC NULLS LAST, score IS NULL, iteration
            LIMIT 1
        ) i ON true
        ORDER BY s.side
        """;

    // Scores are aggregated in float8, which sums several times faster than numeric; a numeric(7,4) score converts
    // closely enough that order and equality between two scores are kept, so the buckets are those of the exact values.
    // Costs and tokens stay exact: their means are money and counts, read as they are.
    private const string Keyed = $"""
        {ExampleKey} AS example_key, sample_index, score::float8 AS score, success, latency_ms,
        prompt_tokens + completion_tokens AS tokens, cost_usd
        """;

    // Each side: one row per example key, its lowest sample index (DISTINCT ON after one sort), and apart from it the
    // keys with more than one sample (a hash aggregate). The iteration's samples come off optimization_samples_pk.
    public const string CompareSql = $"""
        WITH keyed_a AS (SELECT {Keyed} FROM optimization_samples WHERE run_id = @RunA AND iteration = @IterationA),
        keyed_b AS (SELECT {Keyed} FROM optimization_samples WHERE run_id = @RunB AND iteration = @IterationB),
        a AS (SELECT DISTINCT ON (example_key) * FROM keyed_a ORDER BY example_key, sample_index),
        b AS (SELECT DISTINCT ON (example_key) * FROM keyed_b ORDER BY example_key, sample_index),
        duplicates_a AS (SELECT example_key, count(*) AS copies FROM keyed_a GROUP BY example_key HAVING count(*) > 1),
        duplicates_b AS (SELECT example_key, count(*) AS copies FROM keyed_b GROUP BY example_key HAVING count(*) > 1),
        pairs AS (
            SELECT a.example_key IS NOT NULL AS in_a, b.example_key IS NOT NULL AS in_b,
                   a.score AS score_a, b.score AS score_b, b.score - a.score AS delta,
                   a.success AS success_a, b.success AS success_b,
                   a.cost_usd AS cost_a, b.cost_usd AS cost_b, a.tokens AS tokens_a, b.tokens AS tokens_b,
                   a.latency_ms AS latency_a, b.latency_ms AS latency_b
            FROM a FULL JOIN b ON a.example_key = b.example_key
        )
        SELECT
            count(*) FILTER (WHERE in_a AND in_b) AS paired,
            count(*) FILTER (WHERE delta > 0) AS improved,
            count(*) FILTER (WHERE delta < 0) AS regressed,
            count(*) FILTER (WHERE delta = 0) AS unchanged,
            count(*) FILTER (WHERE in_a AND in_b AND delta IS NULL) AS unscored,
            count(*) FILTER (WHERE NOT in_b) AS only_a,
            count(*) FILTER (WHERE NOT in_a) AS only_b,
            count(delta) AS scored,
            avg(score_a) FILTER (WHERE delta IS NOT NULL) AS mean_score_a,
            avg(score_b) FILTER (WHERE delta IS NOT NULL) AS mean_score_b,
            avg(delta) AS mean_delta,
            var_samp(delta) AS delta_variance,
            count(*) FILTER (WHERE in_a AND in_b AND success_a) AS success_a,
            count(*) FILTER (WHERE in_a AND in_b AND success_b) AS success_b,
            count(*) FILTER (WHERE NOT success_a AND success_b) AS success_gained,
            count(*) FILTER (WHERE success_a AND NOT success_b) AS success_lost,
            avg(cost_a) FILTER (WHERE in_a AND in_b)::float8 AS mean_cost_usd_a,
            avg(cost_b) FILTER (WHERE in_a AND in_b)::float8 AS mean_cost_usd_b,
            avg(cost_b - cost_a)::float8 AS mean_cost_usd_delta,
            avg(tokens_a) FILTER (WHERE in_a AND in_b)::float8 AS mean_tokens_a,
            avg(tokens_b) FILTER (WHERE in_a AND in_b)::float8 AS mean_tokens_b,
            avg(tokens_b - tokens_a)::float8 AS mean_tokens_delta,
            avg(latency_a) FILTER (WHERE latency_b IS NOT NULL) AS mean_latency_ms_a,
            avg(latency_b) FILTER (WHERE latency_a IS NOT NULL) AS mean_latency_ms_b,
            avg(latency_b - latency_a) AS mean_latency_ms_delta,
            (SELECT count(*) FROM duplicates_a) AS duplicate_keys_a,
            (SELECT coalesce(sum(copies - 1), 0)::bigint FROM duplicates_a) AS duplicate_samples_a,
            (SELECT array_agg(example_key ORDER BY example_key)
             FROM (SELECT example_key FROM duplicates_a ORDER BY example_key LIMIT @ListedDuplicates) d) AS duplicate_examples_a,
            (SELECT count(*) FROM duplicates_b) AS duplicate_keys_b,
            (SELECT coalesce(sum(copies - 1), 0)::bigint FROM duplicates_b) AS duplicate_samples_b,
            (SELECT array_agg(example_key ORDER BY example_key)
             FROM (SELECT example_key FROM duplicates_b ORDER BY example_key LIMIT @ListedDuplicates) d) AS duplicate_examples_b
        FROM pairs
        """;

    // The pairs narrow (key, sample index, score), both sides cut at the cursor before the join: an equal key is past
    // the cursor on both sides or on neither. Only the page's rows are read in full, by primary key. The sides are
    // materialized so each key is computed once: inlined, the planner repeats the key's expression (an MD5 of the
    // inputs' text for samples without an id) in the sort, the join and the bucket.
    public const string PageSql = $"""
        WITH a AS MATERIALIZED (
            SELECT DISTINCT ON (example_key) example_key, sample_index, score
            FROM (SELECT {ExampleKey} AS example_key, sample_index, score
                  FROM optimization_samples WHERE run_id = @RunA AND iteration = @IterationA) s
            WHERE CAST(@AfterKey AS text) IS NULL OR example_key > @AfterKey
            ORDER BY example_key, sample_index
        ),
        b AS MATERIALIZED (
            SELECT DISTINCT ON (example_key) example_key, sample_index, score
            FROM (SELECT {ExampleKey} AS example_key, sample_index, score
                  FROM optimization_samples WHERE run_id = @RunB AND iteration = @IterationB) s
            WHERE CAST(@AfterKey AS text) IS NULL OR example_key > @AfterKey
            ORDER BY example_key, sample_index
        ),
        page AS (
            SELECT example_key, a_index, b_index, bucket
            FROM (
                SELECT COALESCE(a.example_key, b.example_key) AS example_key, a.sample_index AS a_index, b.sample_index AS b_index,
                       CASE WHEN b.example_key IS NULL THEN 'onlyA'
                            WHEN a.example_key IS NULL THEN 'onlyB'
                            WHEN a.score IS NULL OR b.score IS NULL THEN 'unscored'
                            WHEN b.score > a.score THEN 'improved'
                            WHEN b.score < a.score THEN 'regressed'
                            ELSE 'unchanged' END AS bucket
                FROM a FULL JOIN b ON a.example_key = b.example_key
            ) pairs
            WHERE CAST(@Bucket AS text) IS NULL OR bucket = @Bucket
            ORDER BY example_key
            LIMIT @Take
        )
        SELECT p.example_key, p.bucket, COALESCE(sa.example_id, sb.example_id) AS example_id,
               COALESCE(sa.inputs, sb.inputs) AS inputs_json, COALESCE(sa.expected, sb.expected) AS expected_json,
               sa.sample_index AS a_sample_index, sa.score AS a_score, sa.success AS a_success,
               sa.prediction AS a_prediction_json, sa.error AS a_error, sa.latency_ms AS a_latency_ms,
               sa.prompt_tokens AS a_prompt_tokens, sa.completion_tokens AS a_completion_tokens, sa.cost_usd AS a_cost_usd,
               sa.trace_id AS a_trace_id, sa.span_id AS a_span_id,
               sb.sample_index AS b_sample_index, sb.score AS b_score, sb.success AS b_success,
               sb.prediction AS b_prediction_json, sb.error AS b_error, sb.latency_ms AS b_latency_ms,
               sb.prompt_tokens AS b_prompt_tokens, sb.completion_tokens AS b_completion_tokens, sb.cost_usd AS b_cost_usd,
               sb.trace_id AS b_trace_id, sb.span_id AS b_span_id
        FROM page p
        LEFT JOIN optimization_samples sa ON sa.run_id = @RunA AND sa.iteration = @IterationA AND sa.sample_index = p.a_index
        LEFT JOIN optimization_samples sb ON sb.run_id = @RunB AND sb.iteration = @IterationB AND sb.sample_index = p.b_index
        ORDER BY p.example_key
        """;

    /// <summary>Both sides resolved, and their samples paired and aggregated.</summary>
    public async Task<(ComparedIteration A, ComparedIteration B, PairAggregates Pairs)> CompareAsync(
        Guid projectId, ComparisonQuery query, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        var (a, b) = await ResolveAsync(reader, query);
        var parameters = Sides(a, b);
        parameters.Add("ListedDuplicates", DuplicateExamples.MaxListed);
        return (a, b, await reader.QuerySingleAsync<PairAggregates>(CompareSql, parameters));
    }

    /// <summary>Both sides resolved, and up to <paramref name="take"/> of their pairs after the query's key.</summary>
    public async Task<(ComparedIteration A, ComparedIteration B, List<ExamplePairRow> Rows)> PageAsync(
        Guid projectId, ComparisonExamplesQuery query, int take, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        var (a, b) = await ResolveAsync(reader, query.Comparison);
        var parameters = Sides(a, b);
        parameters.Add("AfterKey", query.AfterKey);
        parameters.Add("Bucket", query.Bucket?.ToName());
        parameters.Add("Take", take);
        return (a, b, await reader.QueryAsync<ExamplePairRow>(PageSql, parameters));
    }

    /// <summary>The parameters of the pairing statements for resolved sides.</summary>
    public static DynamicParameters Sides(ComparedIteration a, ComparedIteration b)
    {
        var parameters = new DynamicParameters();
        parameters.Add("RunA", a.RunId);
        parameters.Add("IterationA", a.Iteration);
        parameters.Add("RunB", b.RunId);
        parameters.Add("IterationB", b.Iteration);
        return parameters;
    }

    // The pairing statement takes concrete iterations, so it pairs exactly the iterations this answer names even when
    // a new best is committed meanwhile.
    private static async Task<(ComparedIteration A, ComparedIteration B)> ResolveAsync(ProjectReader reader, ComparisonQuery query)
    {
        var rows = await reader.QueryAsync<ResolvedSideRow>(ResolveSql, new
        {
            RunA = query.A.RunId,
            IterationA = query.A.Iteration,
            RunB = query.B.RunId,
            IterationB = query.B.Iteration,
        });
        return ComparisonSides.Resolve(query, rows[0], rows[1]);
    }
}

/// <summary>A side of a comparison as <see cref="ComparisonQueries.ResolveSql"/> finds it.</summary>
public sealed class ResolvedSideRow
{
    public string Side { get; set; } = "";
    public bool RunVisible { get; set; }
    public int? Iteration { get; set; }
    public string? Kind { get; set; }
    public decimal? Score { get; set; }
}

/// <summary>The aggregate row of <see cref="ComparisonQueries.CompareSql"/>.</summary>
public sealed class PairAggregates
{
    public long Paired { get; set; }
    public long Improved { get; set; }
    public long Regressed { get; set; }
    public long Unchanged { get; set; }
    public long Unscored { get; set; }
    public long OnlyA { get; set; }
    public long OnlyB { get; set; }
    /// <summary>Pairs where both samples are scored: the deltas' count.</summary>
    public long Scored { get; set; }
    public double? MeanScoreA { get; set; }
    public double? MeanScoreB { get; set; }
    public double? MeanDelta { get; set; }
    /// <summary>The deltas' sample variance (n − 1); null with fewer than two.</summary>
    public double? DeltaVariance { get; set; }
    public long SuccessA { get; set; }
    public long SuccessB { get; set; }
    public long SuccessGained { get; set; }
    public long SuccessLost { get; set; }
    public double? MeanCostUsdA { get; set; }
    public double? MeanCostUsdB { get; set; }
    public double? MeanCostUsdDelta { get; set; }
    public double? MeanTokensA { get; set; }
    public double? MeanTokensB { get; set; }
    public double? MeanTokensDelta { get; set; }
    public double? MeanLatencyMsA { get; set; }
    public double? MeanLatencyMsB { get; set; }
    public double? MeanLatencyMsDelta { get; set; }
    public long DuplicateKeysA { get; set; }
    public long DuplicateSamplesA { get; set; }
    public string[]? DuplicateExamplesA { get; set; }
    public long DuplicateKeysB { get; set; }
    public long DuplicateSamplesB { get; set; }
    public string[]? DuplicateExamplesB { get; set; }
}

/// <summary>A row of <see cref="ComparisonQueries.PageSql"/>: one example, both sides' samples side by side.</summary>
public sealed class ExamplePairRow
{
    public string ExampleKey { get; set; } = "";
    public string Bucket { get; set; } = "";
    public string? ExampleId { get; set; }
    public string? InputsJson { get; set; }
    public string? ExpectedJson { get; set; }
    public int? ASampleIndex { get; set; }
    public decimal? AScore { get; set; }
    public bool? ASuccess { get; set; }
    public string? APredictionJson { get; set; }
    public string? AError { get; set; }
    public double? ALatencyMs { get; set; }
    public int? APromptTokens { get; set; }
    public int? ACompletionTokens { get; set; }
    public decimal? ACostUsd { get; set; }
    public string? ATraceId { get; set; }
    public string? ASpanId { get; set; }
    public int? BSampleIndex { get; set; }
    public decimal? BScore { get; set; }
    public bool? BSuccess { get; set; }
    public string? BPredictionJson { get; set; }
    public string? BError { get; set; }
    public double? BLatencyMs { get; set; }
    public int? BPromptTokens { get; set; }
    public int? BCompletionTokens { get; set; }
    public decimal? BCostUsd { get; set; }
    public string? BTraceId { get; set; }
    public string? BSpanId { get; set; }
}
