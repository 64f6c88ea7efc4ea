using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Grains.Data;

/// <summary>A run's iterations, in order, and its best one. Each read also says whether the run is visible.</summary>
public sealed class IterationQueries(NpgsqlDataSource dataSource)
{
    /// <summary>Every column an iteration answer shows, as <see cref="IterationView"/> maps them.</summary>
    public const string Columns = """
        iteration, kind, score, is_best, params AS params_json, candidate_program AS candidate_program_json,
        samples_evaluated, samples_successful, samples_failed, prompt_tokens, completion_tokens, cost_usd,
        avg_latency_ms, started_at, completed_at, duration_ms, trace_id, span_id, metadata AS metadata_json, created_at,
        updated_at
        """;

    /// <summary>A run's iterations along the primary key.</summary>
    public const string IterationsSql = $"SELECT {Columns} FROM optimization_iterations WHERE run_id = @RunId ORDER BY iteration";

    /// <summary>
    /// A run's iterations whose params contain a JSON object (e.g. every trial that chose instruction 2 for predictor
    /// 0), along the primary key too: a run has tens to hundreds of trials, and testing each of them costs less than
    /// a GIN index of params (migration 0013 dropped it), whose entry for such a choice lists that trial of nearly every run.
    /// </summary>
    public const string IterationsWithParamsSql = $"""
        SELECT {Columns} FROM optimization_iterations WHERE run_id = @RunId AND params @> @Params::jsonb ORDER BY iteration
        """;

    /// <summary>optimization_iterations_best_idx holds the one best row of each run.</summary>
    public const string BestSql = $"SELECT {Columns} FROM optimization_iterations WHERE run_id = @RunId AND is_best ORDER BY iteration LIMIT 1";


    /// <summary>The run's iterations in order; null when the run is not visible in <paramref name="projectId"/>.</summary>
    public Task<List<IterationView>?> ListAsync(Guid projectId, Guid runId, CancellationToken cancellationToken) =>
        ListAsync(projectId, runId, null, cancellationToken);

    /// <summary>
    /// The run's iterations in order, only those whose params contain <paramref name="paramsJson"/> (a JSON object)
    /// when given; null when the run is not visible in <paramref name="projectId"/>.
    /// </summary>
    public async Task<List<IterationView>?> ListAsync(
        Guid projectId, Guid runId, string? paramsJson, CancellationToken cancellationToken)
    {
        var (sql, parameters) = paramsJson is null
            ? (IterationsSql, (object)new { RunId = runId })
            : (IterationsWithParamsSql, new { RunId = runId, Params = paramsJson });
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return await reader.QueryRunAsync<IterationView>(sql, parameters);
    }

    /// <summary>
    /// Whether the run is visible, and its best iteration if it has one.
    /// </summary>
    public async Task<(bool RunExists, IterationView? Best)> BestAsync(Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        await using var results = await reader.ReadMultipleAsync(ProjectReader.RunExistsSql + BestSql, new { RunId = runId });
        var exists = await results.ReadSingleAsync<bool>();
        return (exists, await results.ReadSingleOrDefaultAsync<IterationView>());
    }
}
