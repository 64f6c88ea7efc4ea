namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// What a run knows that its row may not hold between commits: checkpointed through grain storage, when the row is
/// behind, so an activation on another silo resumes with it. (Phase, message, latency percentiles and the heartbeat
/// are columns of the run row, written with every commit and progress write.)
/// </summary>
[GenerateSerializer, Alias("runs.RunLiveState")]
public sealed class RunLiveState
{
    /// <summary>The newest heartbeat when checkpointed, for stall detection; the row has the one of its last write.</summary>
    [Id(2)] public DateTimeOffset? LastHeartbeatAt { get; set; }

    /// <summary>The id of the newest event when checkpointed: a floor for the next activation's ids (RunEventLog.FirstIdAfter).</summary>
    [Id(3)] public long LastEventId { get; set; }
}
