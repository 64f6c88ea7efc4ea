using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Candidates;

/// <summary>
/// A run's candidates with their statistics, keyed by the project id. Stateless and local to the silo that takes the
/// call: one grain hop, one database round trip under the project, then the arithmetic of <see cref="CandidateStatistics"/>.
/// </summary>
/// <remarks>Reentrant: it holds no state, so one activation may wait on many queries at once.</remarks>
[StatelessWorker, Reentrant]
public sealed class CandidateQueryGrain(CandidateStore store) : Grain, ICandidateQueryGrain
{
    private Guid ProjectId => this.GetPrimaryKey();

    /// <inheritdoc />
    public async Task<RunCandidates> GetCandidatesAsync(Guid runId, CancellationToken cancellationToken = default)
    {
        var rows = await store.ReadAsync(ProjectId, runId, cancellationToken);
        return rows is null ? throw new RunNotFoundException(runId) : CandidateTable.From(runId, rows);
    }
}
