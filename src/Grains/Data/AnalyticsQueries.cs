using Dapper;
using Npgsql;
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
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        var json = await scope.Connection.ExecuteScalarAsync<string?>(
            new CommandDefinition(SummarySql, new { RunId = runId }, scope.Transaction, cancellationToken: cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return json;
    }

    /// <summary>The project's top completed runs by final score, optionally of one optimizer.</summary>
    public async Task<List<RunSnapshot>> LeaderboardAsync(Guid projectId, string? optimizerType, int limit, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        var rows = await scope.Connection.QueryAsync<RunSnapshot>(new CommandDefinition(LeaderboardSql,
            new { OptimizerType = optimizerType, Limit = limit }, scope.Transaction, cancellationToken: cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return rows.AsList();
    }

    /// <summary>The project's rows of the analytics view, one per optimizer it has runs of.</summary>
    public async Task<List<AnalyticsRow>> AnalyticsAsync(Guid projectId, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        var rows = await scope.Connection.QueryAsync<AnalyticsRow>(
            new CommandDefinition(AnalyticsSql, transaction: scope.Transaction, cancellationToken: cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return rows.AsList();
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

/// <summary>A row of <c>project_run_analytics()</c>.</summary>
public sealed class AnalyticsRow
{
    public string OptimizerType { get; set; } = "";
    public long TotalRuns { get; set; }
    public long PendingRuns { get; set; }
    public long RunningRuns { get; set; }
    public long StalledRuns { get; set; }
    public long CompletedRuns { get; set; }
    public long FailedRuns { get; set; }
    public long CancelledRuns { get; set; }
    public decimal? AvgFinalScore { get; set; }
    public decimal? MaxFinalScore { get; set; }
    public decimal? AvgImprovement { get; set; }
    public decimal? AvgImprovementPct { get; set; }
    public long TotalTokens { get; set; }
    public decimal TotalCostUsd { get; set; }
    public long? AvgDurationMs { get; set; }
    public long SamplesEvaluated { get; set; }
    public DateTime? LastRunAt { get; set; }
    public DateTime RefreshedAt { get; set; }
}
