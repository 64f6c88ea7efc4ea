namespace OptimizationRuns.Grains.Analysis;

/// <summary>
/// Analyses of one run over its committed rows: the trajectory of its iterations and the difficulty of its examples.
/// Keyed by the caller's project id (<c>GetGrain&lt;IRunAnalysisGrain&gt;(projectId)</c>); every query runs in a
/// transaction set to that project, so a run of another project, or none, throws
/// <see cref="Runs.RunNotFoundException"/>.
/// </summary>
public interface IRunAnalysisGrain : IGrainWithGuidKey
{
    /// <summary>The run's iterations in order, each with the run's best scores and cumulative usage up to it.</summary>
    Task<IReadOnlyList<TrajectoryPoint>> GetTrajectoryAsync(Guid runId, CancellationToken cancellationToken = default);

    /// <summary>A page of the run's examples in the query's order (hardest or flakiest first).</summary>
    Task<ExamplePage> GetExamplesAsync(ExampleQuery query, CancellationToken cancellationToken = default);
}
