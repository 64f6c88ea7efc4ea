using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Queries;

/// <summary>
/// The project-scoped reads, keyed by the project id. Stateless and local to the silo that takes the call, so a
/// read costs one grain hop and one database transaction under the project.
/// </summary>
/// <remarks>Reentrant: it holds no state, so one activation may wait on many queries at once.</remarks>
[StatelessWorker, Reentrant]
public sealed class RunQueryGrain(
    RunListQueries runLists,
    IterationQueries iterations,
    SampleQueries samples,
    AnalyticsQueries analytics) : Grain, IRunQueryGrain
{
    private const int MaxRunPage = Limits.MaxRunPage;
    private const int MaxSamplePage = Limits.MaxSamplePage;
    private const int MaxLeaderboard = Limits.MaxLeaderboard;

    private Guid ProjectId => this.GetPrimaryKey();

    /// <inheritdoc />
    public async Task<RunPage> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Math.Clamp(query.Limit, 1, MaxRunPage);
        // One more than the page shows: whether it exists decides whether there is a next page.
        var rows = await runLists.ListAsync(ProjectId, query, limit + 1, cancellationToken);
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? PositionOf(rows[limit - 1], query.Sort) : null;
        return new RunPage(page, next);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IterationView>> GetIterationsAsync(Guid runId, CancellationToken cancellationToken = default) =>
        GetIterationsAsync(runId, null, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<IterationView>> GetIterationsAsync(Guid runId, string? paramsJson, CancellationToken cancellationToken = default)
    {
        var rows = await iterations.ListAsync(ProjectId, runId, paramsJson, cancellationToken) ?? throw new RunNotFoundException(runId);
        return rows;
    }

    /// <inheritdoc />
    public async Task<IterationView?> GetBestIterationAsync(Guid runId, CancellationToken cancellationToken = default)
    {
        var (exists, best) = await iterations.BestAsync(ProjectId, runId, cancellationToken);
        if (!exists)
        {
            throw new RunNotFoundException(runId);
        }

        return best;
    }

    /// <inheritdoc />
    public async Task<SamplePage> GetSamplesAsync(SampleQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Math.Clamp(query.Limit, 1, MaxSamplePage);
        var rows = await samples.PageAsync(ProjectId, query, limit + 1, cancellationToken) ?? throw new RunNotFoundException(query.RunId);
        return Page(rows, limit);
    }

    /// <inheritdoc />
    public async Task<SamplePage> GetTraceSamplesAsync(TraceSampleQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Math.Clamp(query.Limit, 1, MaxSamplePage);
        return Page(await samples.TraceAsync(ProjectId, query, limit + 1, cancellationToken), limit);
    }

    /// <inheritdoc />
    public async Task<string> GetSummaryJsonAsync(Guid runId, CancellationToken cancellationToken = default) =>
        await analytics.SummaryAsync(ProjectId, runId, cancellationToken) ?? throw new RunNotFoundException(runId);

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunSnapshot>> GetLeaderboardAsync(
        OptimizerType? optimizerType, int limit, CancellationToken cancellationToken = default)
    {
        var rows = await analytics.LeaderboardAsync(ProjectId, optimizerType?.ToName(), Math.Clamp(limit, 1, MaxLeaderboard), cancellationToken);
        return rows;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OptimizerAnalytics>> GetAnalyticsAsync(CancellationToken cancellationToken = default)
    {
        return await analytics.AnalyticsAsync(ProjectId, cancellationToken);
    }

    private static RunPosition PositionOf(RunSnapshot row, RunSort sort) => sort switch
    {
        RunSort.FinalScore => new RunPosition(row.Id, Score: row.FinalScore),
        RunSort.BestScore => new RunPosition(row.Id, Score: row.BestScore),
        RunSort.Improvement => new RunPosition(row.Id, Score: row.Improvement),
        _ => new RunPosition(row.Id, CreatedAt: row.CreatedAt),
    };

    private static SamplePage Page(List<SampleView> rows, int limit)
    {
        var page = rows.Take(limit).ToList();
        var last = rows.Count > limit ? rows[limit - 1] : null;
        return new SamplePage(page, last is null ? null : new SamplePosition(last.RunId, last.Iteration, last.SampleIndex));
    }
}
