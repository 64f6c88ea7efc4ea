using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The run's candidates (<c>optimization_candidates</c>): written once by the run's grain, each batch in one
/// transaction; read with the statistics of the iterations that chose each one, aggregated in the database.
/// </summary>
public sealed class CandidateStore(NpgsqlDataSource dataSource)
{
    // The batch as one set of rows: each array holds one column, in request order.
    private const string Batch = """
        unnest(@Predictors::text[], @Kinds::text[], @Indexes::integer[], @Texts::text[], @Demos::text[])
        """;

    // Two statements, one round trip. The insert skips stored keys (a concurrent writer of the same key is waited for);
    // it goes in key order, so two batches that overlap cannot deadlock. The comparison that follows sees every
    // committed row and this batch's own, so it finds exactly the stored candidates whose content differs.
    private const string RecordSql = $"""
        WITH inserted AS (
            INSERT INTO optimization_candidates (run_id, project_id, predictor, kind, idx, text, demos)
            SELECT @RunId, @ProjectId, c.predictor, c.kind, c.idx, c.text, c.demos::jsonb
            FROM {Batch} AS c(predictor, kind, idx, text, demos)
            ORDER BY c.predictor, c.kind, c.idx
            ON CONFLICT (run_id, predictor, kind, idx) DO NOTHING
            RETURNING 1
        )
        SELECT count(*)::int FROM inserted;
        SELECT c.predictor, c.kind, c.idx
        FROM {Batch} AS c(predictor, kind, idx, text, demos)
        JOIN optimization_candidates s ON s.run_id = @RunId AND s.predictor = c.predictor AND s.kind = c.kind AND s.idx = c.idx
        WHERE s.text IS DISTINCT FROM c.text OR s.demos IS DISTINCT FROM c.demos::jsonb
        ORDER BY c.predictor, c.kind, c.idx
        LIMIT 10;
        """;

    /// <summary>
    /// Inserts the candidates not stored yet and commits, unless a stored one has a different content: then nothing is
    /// written and the conflicting keys (at most 10) are answered. <paramref name="candidates"/> hold no key twice.
    /// </summary>
    public async Task<(int Inserted, IReadOnlyList<CandidateKey> Conflicts)> RecordAsync(
        Guid projectId, Guid runId, IReadOnlyList<CandidateRecord> candidates, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            RunId = runId,
            ProjectId = projectId,
            Predictors = candidates.Select(c => c.Predictor).ToArray(),
            Kinds = candidates.Select(c => c.Kind.ToName()).ToArray(),
            Indexes = candidates.Select(c => c.Index).ToArray(),
            Texts = candidates.Select(c => c.Text).ToArray(),
            Demos = candidates.Select(c => c.DemosJson).ToArray(),
        };
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        int inserted;
        List<CandidateKey> conflicts;
        await using (var results = await scope.Connection.QueryMultipleAsync(scope.Command(RecordSql, parameters, cancellationToken)))
        {
            inserted = await results.ReadSingleAsync<int>();
            conflicts = (await results.ReadAsync<CandidateKey>()).AsList();
        }

        if (conflicts.Count == 0)
        {
            await scope.CommitAsync(cancellationToken);
        }

        // Disposing the scope without a commit rolls the inserts back: a batch with a conflict writes nothing.
        return (conflicts.Count == 0 ? inserted : 0, conflicts);
    }


    /// <summary>
    /// One row per (predictor, kind, index) that is recorded or chosen by an iteration. The choices come from each
    /// iteration's <c>params->'predictors'</c> (an object of objects whose <c>instruction</c> and <c>demos</c> are
    /// integers from 0; anything else names no choice) and are aggregated per candidate here: how often it was chosen,
    /// and n / mean / sample variance / best of the scored minibatch and full (baseline, full) iterations. Means and
    /// variances in float8 (four-decimal scores lose nothing that matters, and numeric aggregates cost far more);
    /// best scores stay numeric, exact. Served by the primary keys of both tables (their <c>run_id</c> prefix).
    /// </summary>
    public const string CandidatesSql = """
        WITH choices AS (
            SELECT p.key AS predictor, c.kind, v.number::integer AS idx, i.kind <> 'minibatch' AS full_evaluation,
                   i.score, i.score::float8 AS x
            FROM optimization_iterations i
            CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(i.params -> 'predictors') = 'object'
                                               THEN i.params -> 'predictors' ELSE '{}'::jsonb END) AS p
            CROSS JOIN LATERAL (VALUES ('instruction', p.value -> 'instruction'), ('demos', p.value -> 'demos')) AS c(kind, choice)
            CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(c.choice) = 'number' THEN c.choice::numeric END AS number) AS v
            WHERE i.run_id = @RunId AND jsonb_typeof(p.value) = 'object'
              AND v.number BETWEEN 0 AND 2147483647 AND v.number = trunc(v.number)
        ),
        chosen AS (
            SELECT predictor, kind, idx,
                   count(*)::int AS times_chosen,
                   count(x) FILTER (WHERE NOT full_evaluation)::int AS minibatch_n,
                   avg(x) FILTER (WHERE NOT full_evaluation) AS minibatch_mean,
                   var_samp(x) FILTER (WHERE NOT full_evaluation) AS minibatch_variance,
                   max(score) FILTER (WHERE NOT full_evaluation) AS best_minibatch_score,
                   count(x) FILTER (WHERE full_evaluation)::int AS full_n,
                   avg(x) FILTER (WHERE full_evaluation) AS full_mean,
                   max(score) FILTER (WHERE full_evaluation) AS best_score
            FROM choices
            GROUP BY predictor, kind, idx
        ),
        recorded AS (
            SELECT predictor, kind, idx, text, demos::text AS demos_json, created_at
            FROM optimization_candidates WHERE run_id = @RunId
        )
        SELECT COALESCE(r.predictor, s.predictor) AS predictor, COALESCE(r.kind, s.kind) AS kind, COALESCE(r.idx, s.idx) AS idx,
               r.predictor IS NOT NULL AS recorded, r.text, r.demos_json, r.created_at,
               COALESCE(s.times_chosen, 0) AS times_chosen, COALESCE(s.minibatch_n, 0) AS minibatch_n, s.minibatch_mean,
               s.minibatch_variance, s.best_minibatch_score, COALESCE(s.full_n, 0) AS full_n, s.full_mean, s.best_score
        FROM recorded r
        FULL JOIN chosen s ON s.predictor = r.predictor AND s.kind = r.kind AND s.idx = r.idx
        """;

    /// <summary>The run's candidate rows; null when the run is not visible in <paramref name="projectId"/>.</summary>
    public async Task<List<CandidateRow>?> ReadAsync(Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return await reader.QueryRunAsync<CandidateRow>(CandidatesSql, new { RunId = runId });
    }
}

/// <summary>A candidate's identity within its run.</summary>
public sealed record CandidateKey(string Predictor, string Kind, int Idx);

/// <summary>A candidate as <see cref="CandidateStore.CandidatesSql"/> answers it: content if recorded, and its aggregates.</summary>
public sealed class CandidateRow
{
    public string Predictor { get; set; } = "";
    public string Kind { get; set; } = "";
    public int Idx { get; set; }
    public bool Recorded { get; set; }
    public string? Text { get; set; }
    public string? DemosJson { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    public int TimesChosen { get; set; }
    public int MinibatchN { get; set; }
    public double? MinibatchMean { get; set; }
    public double? MinibatchVariance { get; set; }
    public decimal? BestMinibatchScore { get; set; }
    public int FullN { get; set; }
    public double? FullMean { get; set; }
    public decimal? BestScore { get; set; }
}
