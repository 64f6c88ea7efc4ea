using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Analysis;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The statements of a run's analyses: its trajectory (here), its examples' difficulty
/// (<c>RunAnalysisQueries.Examples.cs</c>) and the pages of its export (<c>RunAnalysisQueries.Export.cs</c>). Each read
/// runs in a transaction under the caller's project and says whether the run is visible there.
/// </summary>
public sealed partial class RunAnalysisQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// One pass over the run's iterations along the primary key: running maxima and sums up to each row. The best
    /// score counts baseline and full evaluations only (a minibatch score never becomes the best); the best minibatch
    /// score runs beside it.
    /// </summary>
    public const string TrajectorySql = """
        SELECT iteration, kind, score,
               max(score) FILTER (WHERE kind IN ('baseline', 'full')) OVER upto AS best_so_far,
               max(score) FILTER (WHERE kind = 'minibatch') OVER upto AS best_minibatch_so_far,
               sum(samples_evaluated) OVER upto AS cumulative_samples,
               sum(cost_usd) OVER upto AS cumulative_cost_usd,
               (sum(prompt_tokens + completion_tokens) OVER upto)::bigint AS cumulative_tokens,
               started_at, completed_at
        FROM optimization_iterations
        WHERE run_id = @RunId
        WINDOW upto AS (ORDER BY iteration ROWS UNBOUNDED PRECEDING)
        ORDER BY iteration
        """;

    /// <summary>The run's trajectory; null when the run is not visible in <paramref name="projectId"/>.</summary>
    public async Task<List<TrajectoryPoint>?> TrajectoryAsync(Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return await reader.QueryRunAsync<TrajectoryPoint>(TrajectorySql, new { RunId = runId });
    }
}
