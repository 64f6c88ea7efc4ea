using System.Diagnostics;

namespace OptimizationRuns.Grains.Runs;

/// <summary>One caller's write, waiting in its run's <see cref="GroupCommitQueue"/>; done when its transaction has committed.</summary>
public abstract class PendingWrite
{
    /// <summary>Completes when the write is committed; fails with the reason it was not.</summary>
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The caller's span: the commit that carries this write is its child (or links to it).</summary>
    public ActivityContext Caller { get; } = Activity.Current?.Context ?? default;

    public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>Samples this write holds in the run's buffer.</summary>
    public virtual int SampleCount => 0;
}

/// <summary>New samples of a batch (duplicates already removed).</summary>
public sealed class SampleWrite(List<SampleRecord> samples) : PendingWrite
{
    public List<SampleRecord> Samples { get; } = samples;

    public override int SampleCount => Samples.Count;
}

/// <summary>An iteration recorded or completed; <see cref="IterationRecord.Kind"/> is resolved (never null) here.</summary>
public sealed class IterationWrite(IterationRecord record) : PendingWrite
{
    public IterationRecord Record { get; } = record;
}

/// <summary>
/// A change of the run row itself: descriptive fields, a status transition, progress, or a stall. The grain writes
/// its run row only through these, in queue order with the ingest writes, so no two writers ever race on it.
/// </summary>
public sealed class RunWrite : PendingWrite
{
    public RunUpdate? Update { get; init; }

    public RunTransition? Transition { get; init; }

    public RunProgress? Progress { get; init; }

    /// <summary>Why the status changes, for the status event and the log.</summary>
    public string? Reason { get; init; }
}
