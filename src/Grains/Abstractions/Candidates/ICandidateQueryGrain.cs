using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Candidates;

/// <summary>
/// A run's candidates with what its iterations say about each. Keyed by the caller's project id
/// (<c>GetGrain&lt;ICandidateQueryGrain&gt;(projectId)</c>); the query runs in a transaction set to that project, so a
/// run of another project, or none, throws <see cref="RunNotFoundException"/>.
/// </summary>
public interface ICandidateQueryGrain : IGrainWithGuidKey
{
    /// <summary>
    /// Per predictor and kind, every candidate recorded or chosen by an iteration, with its statistics over the
    /// run's iterations and the share of the minibatch scores' variance the choice explains.
    /// </summary>
    Task<RunCandidates> GetCandidatesAsync(Guid runId, CancellationToken cancellationToken = default);
}
