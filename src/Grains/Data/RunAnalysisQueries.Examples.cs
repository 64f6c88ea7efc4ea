using System.Text;
using Dapper;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

// The difficulty of a run's examples: every sample of the run aggregated per example, then the page in the order asked.
public sealed partial class RunAnalysisQueries
{
    /// <summary>
    /// One pass over the run's samples, aggregated per example. Samples with an example id are read from
    /// optimization_samples_examples_idx alone (an index-only scan in example id order, the project check an index
    /// condition) and aggregated as they come, group after group; samples without one are grouped by the MD5 of their
    /// inputs' jsonb text (jsonb normalises key order and spacing), found by optimization_samples_unnamed_examples_idx
    /// and read from the heap. Both indexes are partial: each branch states its predicate. Each branch aggregates on its
    /// own, so only the examples, not the samples, go through the union. The deviation is the population standard
    /// deviation of the example's scores over its evaluations: DSPy evaluates an example at most once per iteration
    /// (full evaluations go over the dev set, minibatches are drawn without replacement), so that is the spread of its
    /// scores across the candidates that evaluated it. The kinds an example was evaluated in are looked up for the
    /// page's examples only (joining every sample to its iteration cost a quarter of the statement), and so is the
    /// last error's text, by primary key, from the position (iteration, sample index) of the example's last failed
    /// sample, packed in a bigint. A kind filter keeps the samples of that kind's iterations, tested in the index
    /// scan against the array of their numbers (a semi-join would give up the index's order for a sort or a hash).
    /// </summary>
    private const string ExamplesTemplate = """
        WITH named AS (
            SELECT s.example_id, NULL::text AS inputs_hash,
                   count(*) AS evaluations,
                   round(avg(s.score), 6) AS mean_score,
                   round(stddev_pop(s.score), 6) AS score_std_dev,
                   count(*) FILTER (WHERE NOT s.success) AS failures,
                   max((s.iteration::bigint << 32) | s.sample_index) FILTER (WHERE NOT s.success) AS last_failure_at
            FROM optimization_samples s
            WHERE s.run_id = @RunId AND s.example_id IS NOT NULL /*kind*/
            GROUP BY s.example_id
            HAVING count(*) >= @MinEvaluations
        ),
        unnamed AS (
            SELECT NULL::text AS example_id, h.inputs_hash,
                   count(*) AS evaluations,
                   round(avg(h.score), 6) AS mean_score,
                   round(stddev_pop(h.score), 6) AS score_std_dev,
                   count(*) FILTER (WHERE NOT h.success) AS failures,
                   max((h.iteration::bigint << 32) | h.sample_index) FILTER (WHERE NOT h.success) AS last_failure_at
            FROM (SELECT md5(COALESCE(s.inputs::text, 'null')) AS inputs_hash, s.iteration, s.sample_index, s.score, s.success
                  FROM optimization_samples s
                  WHERE s.run_id = @RunId AND s.example_id IS NULL /*kind*/) h
            GROUP BY h.inputs_hash
            HAVING count(*) >= @MinEvaluations
        ),
        examples AS (
            SELECT *, ('id:' || example_id) COLLATE "C" AS example_key FROM named
            UNION ALL
            SELECT *, ('inputs:' || inputs_hash) COLLATE "C" FROM unnamed
        ),
        page AS (
            SELECT *, /*first*/ AS sort_first, /*second*/ AS sort_second
            FROM examples
            WHERE (/*first*/, /*second*/, example_key) > (@AfterFirst, @AfterSecond, @AfterKey)
            ORDER BY sort_first, sort_second, example_key
            LIMIT @Take
        ),
        seen AS MATERIALIZED (
            -- Per example of the page: its samples' iterations by the (run, example) index, then those iterations by
            -- their key; LATERAL keeps it so. As a join, PostgreSQL at 10 M samples read every sample of the run,
            -- iteration by iteration, and only then kept the page's (61 of 70 ms for a 13,000-sample run;
            -- BENCHMARKS.md, "Analysis endpoints at 10 M samples, quiet"). Materialized: once, not once per page row
            -- (the generic plan of the prepared statement inlined it into a nested loop: 2,500 lateral calls, 75 ms).
            SELECT p.example_key, k.in_baseline, k.in_minibatch, k.in_full
            FROM page p
            CROSS JOIN LATERAL (
                SELECT bool_or(i.kind = 'baseline') AS in_baseline, bool_or(i.kind = 'minibatch') AS in_minibatch,
                       bool_or(i.kind = 'full') AS in_full
                FROM optimization_iterations i
                WHERE i.run_id = @RunId /*seenKind*/ AND i.iteration = ANY (ARRAY(
                    SELECT s.iteration FROM optimization_samples s WHERE s.run_id = @RunId AND s.example_id = p.example_id))
            ) k
            WHERE p.example_id IS NOT NULL
            UNION ALL
            SELECT p.example_key, bool_or(i.kind = 'baseline'), bool_or(i.kind = 'minibatch'), bool_or(i.kind = 'full')
            FROM page p
            JOIN optimization_samples s ON s.run_id = @RunId AND s.example_id IS NULL AND md5(COALESCE(s.inputs::text, 'null')) = p.inputs_hash
            JOIN optimization_iterations i ON i.run_id = @RunId AND i.iteration = s.iteration /*seenKind*/
            GROUP BY p.example_key
        )
        SELECT p.example_id, p.inputs_hash, p.example_key, p.evaluations, p.mean_score, p.score_std_dev, p.failures,
               COALESCE(k.in_baseline, false) AS in_baseline, COALESCE(k.in_minibatch, false) AS in_minibatch,
               COALESCE(k.in_full, false) AS in_full, p.sort_first, p.sort_second,
               (SELECT e.error FROM optimization_samples e
                WHERE e.run_id = @RunId AND e.iteration = (p.last_failure_at >> 32)::integer
                  AND e.sample_index = (p.last_failure_at & 4294967295)::integer) AS last_error
        FROM page p
        LEFT JOIN seen k ON k.example_key = p.example_key
        ORDER BY p.sort_first, p.sort_second, p.example_key
        """;

    // Each order as two ascending values: hardest is the lowest mean first (unscored ones, -1, before all), then the
    // most failures; flakiest the largest deviation first (none, 1, after all), then the most evaluations.
    private static readonly Dictionary<ExampleSort, (string First, string Second)> SortKeys = new()
    {
        [ExampleSort.Hardest] = ("COALESCE(mean_score, -1)", "-failures"),
        [ExampleSort.Flakiest] = ("-COALESCE(score_std_dev, -1)", "-evaluations"),
    };

    // Before every example of either order: sort values start at -1, keys are never empty.
    private static readonly ExamplePosition BeforeFirst = new(-2, long.MinValue, "");

    /// <summary>The statement of an examples page: fixed clauses for the order and the kind, values as parameters.</summary>
    public static (string Sql, DynamicParameters Parameters) ExamplesStatement(ExampleQuery query, int take)
    {
        var (first, second) = SortKeys[query.Sort];
        var sql = new StringBuilder(ExamplesTemplate)
            .Replace("/*first*/", first).Replace("/*second*/", second)
            .Replace("/*kind*/", query.Kind is null ? "" : "AND s.iteration = ANY (ARRAY(SELECT iteration FROM optimization_iterations WHERE run_id = @RunId AND kind = @Kind))")
            .Replace("/*seenKind*/", query.Kind is null ? "" : "AND i.kind = @Kind");
        var after = query.After ?? BeforeFirst;
        var parameters = new DynamicParameters();
        parameters.Add("RunId", query.RunId);
        parameters.Add("MinEvaluations", Math.Max(1, query.MinEvaluations));
        parameters.Add("AfterFirst", after.First);
        parameters.Add("AfterSecond", after.Second);
        parameters.Add("AfterKey", after.Key);
        parameters.Add("Take", take);
        if (query.Kind is { } kind)
        {
            parameters.Add("Kind", kind.ToName());
        }

        return (sql.ToString(), parameters);
    }

    /// <summary>Up to <paramref name="take"/> examples of the run in the query's order; null when the run is not visible.</summary>
    public async Task<List<ExampleRow>?> ExamplesAsync(Guid projectId, ExampleQuery query, int take, CancellationToken cancellationToken)
    {
        var (sql, parameters) = ExamplesStatement(query, take);
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return await reader.QueryRunAsync<ExampleRow>(sql, parameters);
    }
}

/// <summary>An example's row of the difficulty query, with its place in the order.</summary>
public sealed class ExampleRow
{
    public string? ExampleId { get; set; }
    public string? InputsHash { get; set; }
    public string ExampleKey { get; set; } = "";
    public long Evaluations { get; set; }
    public decimal? MeanScore { get; set; }
    public decimal? ScoreStdDev { get; set; }
    public long Failures { get; set; }
    public bool InBaseline { get; set; }
    public bool InMinibatch { get; set; }
    public bool InFull { get; set; }
    public decimal SortFirst { get; set; }
    public long SortSecond { get; set; }
    public string? LastError { get; set; }

    /// <summary>As the grain contract carries it.</summary>
    public ExampleDifficulty ToDifficulty() => new()
    {
        ExampleId = ExampleId,
        InputsHash = InputsHash,
        Evaluations = Evaluations,
        MeanScore = MeanScore,
        ScoreStdDev = ScoreStdDev,
        Failures = Failures,
        LastError = LastError,
        Kinds = [.. Kinds()],
    };

    /// <summary>Where the example stands in the order it was read in.</summary>
    public ExamplePosition Position => new(SortFirst, SortSecond, ExampleKey);

    private IEnumerable<IterationKind> Kinds()
    {
        if (InBaseline)
        {
            yield return IterationKind.Baseline;
        }

        if (InMinibatch)
        {
            yield return IterationKind.Minibatch;
        }

        if (InFull)
        {
            yield return IterationKind.Full;
        }
    }
}
