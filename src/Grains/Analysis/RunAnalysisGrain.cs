using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Analysis;

/// <summary>
/// A run's trajectory and example difficulty, keyed by the project id. Stateless and local to the silo that takes
/// the call, like the project's query grain: one grain hop and one database transaction under the project per read.
/// </summary>
/// <remarks>Reentrant: it holds no state, so one activation may wait on many queries at once.</remarks>
[StatelessWorker, Reentrant]
public sealed class RunAnalysisGrain(RunAnalysisQueries queries) : Grain, IRunAnalysisGrain
{
    public const int MaxExamplePage = 500;

    private Guid ProjectId => this.GetPrimaryKey();

    /// <inheritdoc />
    public async Task<IReadOnlyList<TrajectoryPoint>> GetTrajectoryAsync(Guid runId, CancellationToken cancellationToken = default) =>
        await queries.TrajectoryAsync(ProjectId, runId, cancellationToken) ?? throw new RunNotFoundException(runId);

    /// <inheritdoc />
    public async Task<ExamplePage> GetExamplesAsync(ExampleQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Math.Clamp(query.Limit, 1, MaxExamplePage);
        // One more than the page shows: whether it exists decides whether there is a next page.
        var rows = await queries.ExamplesAsync(ProjectId, query, limit + 1, cancellationToken)
            ?? throw new RunNotFoundException(query.RunId);
        var page = rows.Take(limit).Select(r => r.ToDifficulty()).ToList();
        return new ExamplePage(page, rows.Count > limit ? rows[limit - 1].Position : null);
    }
}
