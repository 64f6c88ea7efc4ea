using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Everything one group commit writes for a run: new or completed iterations, iterations that only their samples
/// announce, the new samples (already free of duplicates), each touched iteration's and the run's new totals, and
/// the run row as the grain wants it after the commit.
/// </summary>
public sealed class IngestBatch
{
    public List<IterationRecord> Iterations { get; } = [];

    public HashSet<int> SampleIterations { get; } = [];

    public List<SampleRecord> Samples { get; } = [];

    /// <summary>Per touched iteration, its sample statistics after this batch.</summary>
    public Dictionary<int, SampleTotals> IterationTotals { get; } = [];

    public SampleTotals RunTotals { get; set; }

    /// <summary>The run row after this batch: the columns the grain owns (the database derives the rest).</summary>
    public required RunSnapshot Run { get; set; }

    /// <summary>Whether descriptive or outcome fields changed (a patch), so their statement is sent.</summary>
    public bool PatchesRun { get; set; }

    /// <summary>Why the status changes with this batch, when it does.</summary>
    public string? StatusReason { get; set; }

    /// <summary>The latency statistics after this batch; taken over by the ledger once committed.</summary>
    public required LatencyHistogram Latency { get; init; }
}

/// <summary>Running sample statistics of a run or an iteration (a value: adding one allocates nothing).</summary>
public readonly record struct SampleTotals
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
