namespace OptimizationRuns.Grains.Runs;

/// <summary>Tunables of the run grains (configuration section <c>Runs</c>).</summary>
public sealed class RunOptions
{
    /// <summary>A running run with no heartbeat or write for this long becomes stalled.</summary>
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often an active run checks its heartbeat.</summary>
    public TimeSpan StallCheckPeriod { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Samples a run holds waiting for the database before it refuses more (overloaded).</summary>
    public int MaxBufferedSamples { get; set; } = 20_000;

    /// <summary>Samples one transaction commits at most; more wait for the next.</summary>
    public int MaxSamplesPerCommit { get; set; } = 10_000;

    /// <summary>What an overloaded run tells its callers to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Live events a run keeps for reconnecting watchers.</summary>
    public int EventsKept { get; set; } = 1_000;

    /// <summary>
    /// Progress accepted without a commit is written at most this long after it was acknowledged (sooner with any
    /// other commit of the run): the most a silo crash loses of it, and at most one write per period per run.
    /// </summary>
    public TimeSpan ProgressWritePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a run checks whether its heartbeat needs a checkpoint in grain storage: only when the run row's (written
    /// with every commit and progress write) is more than this behind, i.e. for runs that send heartbeats and nothing else.
    /// </summary>
    public TimeSpan CheckpointPeriod { get; set; } = TimeSpan.FromSeconds(5);
}
