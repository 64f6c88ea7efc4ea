namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// The live state of a run that has no column: checkpointed through grain storage so an activation on
/// another silo resumes with it. (Latency statistics are rebuilt exactly from the committed samples by the
/// first write after activation; until then reads answer the percentiles checkpointed here.)
/// </summary>
[GenerateSerializer, Alias("runs.RunLiveState")]
public sealed class RunLiveState
{
    [Id(0)] public string? Phase { get; set; }

    [Id(1)] public string? Message { get; set; }

    [Id(2)] public DateTimeOffset? LastHeartbeatAt { get; set; }

    /// <summary>The id of the newest event, so ids keep increasing across activations.</summary>
    [Id(3)] public long LastEventId { get; set; }

    /// <summary>The latency percentiles at the last checkpoint, for reads before the samples are loaded.</summary>
    [Id(4)] public double? P50LatencyMs { get; set; }

    [Id(5)] public double? P95LatencyMs { get; set; }
}
