using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Everything one group commit writes for a run: new or completed iterations, iterations that only
/// their samples announce, the new samples (already free of duplicates), and the run's new totals.
/// </summary>
public sealed class IngestBatch
{
    public List<IterationRecord> Iterations { get; } = [];

    public HashSet<int> SampleIterations { get; } = [];

    public List<SampleRecord> Samples { get; } = [];

    /// <summary>Per touched iteration, its sample statistics after this batch.</summary>
    public Dictionary<int, SampleTotals> IterationTotals { get; } = [];

    public SampleTotals RunTotals { get; set; } = new();

    /// <summary>The status to write with the batch (a write wakes a pending or stalled run).</summary>
    public RunStatus Status { get; set; }
}

/// <summary>Running sample statistics of a run or an iteration.</summary>
public sealed record SampleTotals
{
    public long Evaluated { get; init; }
    public long Successful { get; init; }
    public long Failed { get; init; }
    public long PromptTokens { get; init; }
    public long CompletionTokens { get; init; }
    public decimal CostUsd { get; init; }
    public long LatencyCount { get; init; }
    public double LatencySumMs { get; init; }

    public double? AvgLatencyMs => LatencyCount > 0 ? LatencySumMs / LatencyCount : null;

    /// <summary>These totals with one more sample counted.</summary>
    public SampleTotals Add(bool success, long promptTokens, long completionTokens, decimal costUsd, double? latencyMs) => this with
    {
        Evaluated = Evaluated + 1,
        Successful = Successful + (success ? 1 : 0),
        Failed = Failed + (success ? 0 : 1),
        PromptTokens = PromptTokens + promptTokens,
        CompletionTokens = CompletionTokens + completionTokens,
        CostUsd = CostUsd + costUsd,
        LatencyCount = LatencyCount + (latencyMs.HasValue ? 1 : 0),
        LatencySumMs = LatencySumMs + (latencyMs ?? 0),
    };
}
