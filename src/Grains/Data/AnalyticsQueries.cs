using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The helper functions of migration 0001: a run's summary, the leaderboard, the project's analytics from the
/// materialized view, and the view's refresh.
/// </summary>
public sealed class AnalyticsQueries(NpgsqlDataSource dataSource)
{
    private const string SummarySql = "SELECT run_summary(@RunId)::text";

    // top_runs() is plain SQL, so the planner inlines it and reads optimization_runs_leaderboard_idx in order.
    public const string LeaderboardSql = $"SELECT {RunListQueries.Columns} FROM top_runs(@OptimizerType::text, @Limit)";

    private const string AnalyticsSql = """
        SELECT optimizer_type, total_runs, pending_runs, running_runs, stalled_runs, completed_runs, failed_runs,
            cancelled_runs, avg_final_score, max_final_score, avg_improvement, avg_improvement_pct, total_tokens,
            total_cost_usd, avg_duration_ms, samples_evaluated, last_run_at, refreshed_at
        FROM project_run_analytics()
        """;

    private const string RefreshSql = "SELECT refresh_run_analytics()";

    /// <summary>The run's summary as JSON text; null when the run is not visible in <paramref name="projectId"/>.</summary>
    public async Task<string?> SummaryAsync(Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return await reader.QuerySingleOrDefaultAsync<string?>(SummarySql, new { RunId = runId });
    }

    /// <summary>The project's top completed runs by final score, optionally of one optimizer.</summary>
    public async Task<List<RunSnapshot>> LeaderboardAsync(Guid projectId, string? optimizerType, int limit, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, genericPlans: true, cancellationToken);
        return await reader.QueryAsync<RunSnapshot>(LeaderboardSql, new { OptimizerType = optimizerType, Limit = limit });
    }

    /// <summary>The project's rows of the analytics view, one per optimizer it has runs of.</summary>
    public async Task<List<OptimizerAnalytics>> AnalyticsAsync(Guid projectId, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return await reader.QueryAsync<OptimizerAnalytics>(AnalyticsSql, null);
    }

    /// <summary>
    /// Refreshes the view for every project (concurrently: readers keep reading). Not under a project: the
    /// function is the owner's, and the view holds every project's rows.
    /// </summary>
    public async Task<DateTime> RefreshAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<DateTime>(
            new CommandDefinition(RefreshSql, commandTimeout: 300, cancellationToken: cancellationToken));
    }
}
