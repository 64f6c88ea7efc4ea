namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// One optimization run, keyed by the run id with the owning project's id as key extension
/// (<c>GetGrain&lt;IRunGrain&gt;(runId, projectId.ToString())</c>). Every database statement runs under
/// that project, so a caller from another project reaches a grain that finds no run: not found.
/// </summary>
public interface IRunGrain : IGrainWithGuidCompoundKey
{
    /// <summary>Creates the run; a repeat with the same id answers the existing run.</summary>
    Task<RunSnapshot> CreateAsync(CreateRun command, CancellationToken cancellationToken = default);

    /// <summary>The run with its live state; <c>null</c> when there is no such run in this project.</summary>
    Task<RunSnapshot?> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes descriptive fields and/or the status (start, complete, fail, cancel) in one transaction: all of it
    /// or none of it. Ending twice the same way is a no-op.
    /// </summary>
    Task<RunSnapshot> PatchAsync(RunPatch patch, CancellationToken cancellationToken = default);

    /// <summary>Deletes the run with its iterations and samples; queued writes are committed first.</summary>
    Task DeleteAsync(CancellationToken cancellationToken = default);

    /// <summary>Heartbeat and live progress; resumes a stalled run.</summary>
    Task<RunSnapshot> ReportProgressAsync(RunProgress progress, CancellationToken cancellationToken = default);

    /// <summary>Records one iteration; returns after it is committed.</summary>
    Task<IterationOutcome> RecordIterationAsync(IterationRecord iteration, CancellationToken cancellationToken = default);

    /// <summary>Records a batch of samples; returns after they are committed, with duplicates counted.</summary>
    Task<SampleBatchResult> RecordSamplesAsync(IReadOnlyList<SampleRecord> samples, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the run's candidates (instruction texts, demo sets) in one transaction, also after the run has ended; a
    /// stored candidate sent again as it is counts as a duplicate, with a different content it is a conflict and nothing is written.
    /// </summary>
    Task<CandidateBatchResult> RecordCandidatesAsync(IReadOnlyList<CandidateRecord> candidates, CancellationToken cancellationToken = default);

    /// <summary>
    /// The run's live events after <paramref name="afterEventId"/> (those still held), then new ones as they
    /// happen; ends when the run has ended and every event has been sent.
    /// </summary>
    IAsyncEnumerable<RunEvent> WatchAsync(long afterEventId, CancellationToken cancellationToken = default);
}

/// <summary>Shorthands for one-part patches.</summary>
public static class RunGrainExtensions
{
    /// <summary>A status change alone: start, complete, fail or cancel.</summary>
    public static Task<RunSnapshot> TransitionAsync(this IRunGrain run, RunTransition transition, CancellationToken cancellationToken = default) =>
        run.PatchAsync(new RunPatch(new RunUpdate(), transition), cancellationToken);

    /// <summary>A change of descriptive fields alone.</summary>
    public static Task<RunSnapshot> UpdateAsync(this IRunGrain run, RunUpdate update, CancellationToken cancellationToken = default) =>
        run.PatchAsync(new RunPatch(update), cancellationToken);
}
