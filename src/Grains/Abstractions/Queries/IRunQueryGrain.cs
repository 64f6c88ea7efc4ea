using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Queries;

/// <summary>
/// The project-scoped reads: run lists, iterations, sample pages, summaries, the leaderboard and analytics.
/// Keyed by the caller's project id (<c>GetGrain&lt;IRunQueryGrain&gt;(projectId)</c>); every query runs in a
/// transaction set to that project, so row-level security hides every other project's rows. A run of another
/// project, or none, throws <see cref="RunNotFoundException"/>.
/// </summary>
public interface IRunQueryGrain : IGrainWithGuidKey
{
    /// <summary>A page of the project's runs, filtered and sorted; the rows as committed (no live state).</summary>
    Task<RunPage> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken = default);

    /// <summary>The run's iterations in order.</summary>
    Task<IReadOnlyList<IterationView>> GetIterationsAsync(Guid runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The run's iterations in order; with <paramref name="paramsJson"/> (a JSON object), only those whose params
    /// contain it, e.g. <c>{"predictors":{"0":{"instruction":2}}}</c>.
    /// </summary>
    Task<IReadOnlyList<IterationView>> GetIterationsAsync(Guid runId, string? paramsJson, CancellationToken cancellationToken = default);

    /// <summary>The run's best iteration (baseline or full evaluations only); null while it has none.</summary>
    Task<IterationView?> GetBestIterationAsync(Guid runId, CancellationToken cancellationToken = default);

    /// <summary>A page of the run's samples in (iteration, sample index) order.</summary>
    Task<SamplePage> GetSamplesAsync(SampleQuery query, CancellationToken cancellationToken = default);

    /// <summary>A page of the project's samples that carry a trace id, in (run, iteration, sample index) order.</summary>
    Task<SamplePage> GetTraceSamplesAsync(TraceSampleQuery query, CancellationToken cancellationToken = default);

    /// <summary>The run's summary (<c>run_summary()</c>) as a JSON object.</summary>
    Task<string> GetSummaryJsonAsync(Guid runId, CancellationToken cancellationToken = default);

    /// <summary>The project's top completed runs by final score (<c>top_runs()</c>).</summary>
    Task<IReadOnlyList<RunSnapshot>> GetLeaderboardAsync(OptimizerType? optimizerType, int limit, CancellationToken cancellationToken = default);

    /// <summary>The project's per-optimizer analytics as of the materialized view's last refresh.</summary>
    Task<IReadOnlyList<OptimizerAnalytics>> GetAnalyticsAsync(CancellationToken cancellationToken = default);
}
