namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// What a run knows that its row does not hold between commits: checkpointed through grain storage so an
/// activation on another silo resumes with it. (Phase, message and latency percentiles are columns of the run row,
/// written with every commit.)
/// </summary>
[GenerateSerializer, Alias("runs.RunLiveState")]
public sealed class RunLiveState
{
    /// <summary>The newest heartbeat or write, for stall detection; the row has the one of its last commit.</summary>
    [Id(2)] public DateTimeOffset? LastHeartbeatAt { get; set; }

    /// <summary>The id of the newest event, so ids keep increasing across activations.</summary>
    [Id(3)] public long LastEventId { get; set; }
}
