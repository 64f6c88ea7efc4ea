using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Queries;

/// <summary>The orders a run list can have; each is descending with the run id as tie-breaker, missing values last.</summary>
public enum RunSort
{
    CreatedAt,
    FinalScore,
    BestScore,
    Improvement,
}

/// <summary>Filters, order and page of a run list; null filters do not filter.</summary>
[GenerateSerializer, Immutable, Alias("queries.RunListQuery")]
public sealed record RunListQuery
{
    [Id(0)] public RunStatus? Status { get; init; }
    [Id(1)] public OptimizerType? OptimizerType { get; init; }
    /// <summary>Every one of these tags must be on the run.</summary>
    [Id(2)] public IReadOnlyList<string>? Tags { get; init; }
    /// <summary>A JSON object the run's config must contain (<c>config @&gt; …</c>).</summary>
    [Id(3)] public string? ConfigJson { get; init; }
    /// <summary>A case-insensitive substring of the run name.</summary>
    [Id(4)] public string? NameContains { get; init; }
    /// <summary>The least score: the final score once there is one, else the best so far.</summary>
    [Id(5)] public decimal? MinScore { get; init; }
    /// <summary>Runs created at or after this time.</summary>
    [Id(6)] public DateTimeOffset? CreatedAfter { get; init; }
    /// <summary>Runs created before this time.</summary>
    [Id(7)] public DateTimeOffset? CreatedBefore { get; init; }
    [Id(8)] public RunSort Sort { get; init; }
    /// <summary>Page size, 1–100.</summary>
    [Id(9)] public int Limit { get; init; } = 20;
    /// <summary>The last run of the previous page; null for the first page.</summary>
    [Id(10)] public RunPosition? After { get; init; }
    /// <summary>A JSON object the run's metadata must contain (<c>metadata @&gt; …</c>).</summary>
    [Id(11)] public string? MetadataJson { get; init; }
}

/// <summary>
/// Where a run stands in a list's order: its id and the sort value (<see cref="CreatedAt"/> for
/// <see cref="RunSort.CreatedAt"/>, else <see cref="Score"/>, null when the run has no such score).
/// </summary>
[GenerateSerializer, Immutable, Alias("queries.RunPosition")]
public sealed record RunPosition(
    [property: Id(0)] Guid Id,
    [property: Id(1)] DateTimeOffset? CreatedAt = null,
    [property: Id(2)] decimal? Score = null);

/// <summary>A page of runs and, when more follow, the position to continue after.</summary>
[GenerateSerializer, Immutable, Alias("queries.RunPage")]
public sealed record RunPage(
    [property: Id(0)] IReadOnlyList<RunSnapshot> Items,
    [property: Id(1)] RunPosition? Next);

/// <summary>One iteration (trial) as stored. JSON documents as raw JSON text.</summary>
[GenerateSerializer, Immutable, Alias("queries.IterationView")]
public sealed record IterationView
{
    [Id(0)] public required int Iteration { get; init; }
    [Id(1)] public required IterationKind Kind { get; init; }
    [Id(2)] public decimal? Score { get; init; }
    /// <summary>Whether this is the run's best baseline or full evaluation.</summary>
    [Id(3)] public bool IsBest { get; init; }
    [Id(4)] public required string ParamsJson { get; init; }
    [Id(5)] public string? CandidateProgramJson { get; init; }
    [Id(6)] public int SamplesEvaluated { get; init; }
    [Id(7)] public int SamplesSuccessful { get; init; }
    [Id(8)] public int SamplesFailed { get; init; }
    [Id(9)] public long PromptTokens { get; init; }
    [Id(10)] public long CompletionTokens { get; init; }
    [Id(11)] public decimal CostUsd { get; init; }
    [Id(12)] public double? AvgLatencyMs { get; init; }
    [Id(13)] public DateTimeOffset? StartedAt { get; init; }
    [Id(14)] public DateTimeOffset? CompletedAt { get; init; }
    [Id(15)] public long? DurationMs { get; init; }
    [Id(16)] public string? TraceId { get; init; }
    [Id(17)] public string? SpanId { get; init; }
    [Id(18)] public required string MetadataJson { get; init; }
    [Id(19)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(20)] public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A page of a run's samples: filters, page size (1–1,000) and the position to continue after.</summary>
[GenerateSerializer, Immutable, Alias("queries.SampleQuery")]
public sealed record SampleQuery
{
    [Id(0)] public required Guid RunId { get; init; }
    [Id(1)] public int? Iteration { get; init; }
    [Id(2)] public bool? Success { get; init; }
    [Id(3)] public decimal? MinScore { get; init; }
    [Id(4)] public decimal? MaxScore { get; init; }
    [Id(5)] public int Limit { get; init; } = 100;
    [Id(6)] public SamplePosition? After { get; init; }
    /// <summary>Only samples of the run's iterations of this kind.</summary>
    [Id(7)] public IterationKind? Kind { get; init; }
    /// <summary>Only samples of this example id (exact).</summary>
    [Id(8)] public string? ExampleId { get; init; }
    /// <summary>Only samples that carry an error.</summary>
    [Id(9)] public bool ErrorsOnly { get; init; }
}

/// <summary>The samples that carry a trace id: page size (1–1,000) and the position to continue after.</summary>
[GenerateSerializer, Immutable, Alias("queries.TraceSampleQuery")]
public sealed record TraceSampleQuery
{
    [Id(0)] public required string TraceId { get; init; }
    [Id(1)] public int Limit { get; init; } = 100;
    [Id(2)] public SamplePosition? After { get; init; }
}

/// <summary>Where a sample stands in a page's order: (run, iteration, sample index).</summary>
[GenerateSerializer, Immutable, Alias("queries.SamplePosition")]
public sealed record SamplePosition(
    [property: Id(0)] Guid RunId,
    [property: Id(1)] int Iteration,
    [property: Id(2)] int SampleIndex);

/// <summary>A page of samples and, when more follow, the position to continue after.</summary>
[GenerateSerializer, Immutable, Alias("queries.SamplePage")]
public sealed record SamplePage(
    [property: Id(0)] IReadOnlyList<SampleView> Items,
    [property: Id(1)] SamplePosition? Next);

/// <summary>One evaluated example as stored. JSON documents as raw JSON text.</summary>
[GenerateSerializer, Immutable, Alias("queries.SampleView")]
public sealed record SampleView
{
    [Id(0)] public required Guid RunId { get; init; }
    [Id(1)] public required int Iteration { get; init; }
    [Id(2)] public required int SampleIndex { get; init; }
    [Id(3)] public string? ExampleId { get; init; }
    [Id(4)] public string? InputsJson { get; init; }
    [Id(5)] public string? ExpectedJson { get; init; }
    [Id(6)] public string? PredictionJson { get; init; }
    [Id(7)] public decimal? Score { get; init; }
    [Id(8)] public bool Success { get; init; }
    [Id(9)] public string? Error { get; init; }
    [Id(10)] public double? LatencyMs { get; init; }
    [Id(11)] public int PromptTokens { get; init; }
    [Id(12)] public int CompletionTokens { get; init; }
    [Id(13)] public decimal CostUsd { get; init; }
    [Id(14)] public string? TraceId { get; init; }
    [Id(15)] public string? SpanId { get; init; }
    [Id(16)] public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One optimizer's row of the project's analytics (the <c>optimization_run_analytics</c> view).</summary>
[GenerateSerializer, Immutable, Alias("queries.OptimizerAnalytics")]
public sealed record OptimizerAnalytics
{
    [Id(0)] public required OptimizerType OptimizerType { get; init; }
    [Id(1)] public long TotalRuns { get; init; }
    [Id(2)] public long PendingRuns { get; init; }
    [Id(3)] public long RunningRuns { get; init; }
    [Id(4)] public long StalledRuns { get; init; }
    [Id(5)] public long CompletedRuns { get; init; }
    [Id(6)] public long FailedRuns { get; init; }
    [Id(7)] public long CancelledRuns { get; init; }
    [Id(8)] public decimal? AvgFinalScore { get; init; }
    [Id(9)] public decimal? MaxFinalScore { get; init; }
    [Id(10)] public decimal? AvgImprovement { get; init; }
    [Id(11)] public decimal? AvgImprovementPct { get; init; }
    [Id(12)] public long TotalTokens { get; init; }
    [Id(13)] public decimal TotalCostUsd { get; init; }
    [Id(14)] public long? AvgDurationMs { get; init; }
    [Id(15)] public long SamplesEvaluated { get; init; }
    [Id(16)] public DateTimeOffset? LastRunAt { get; init; }
    /// <summary>When the view was last refreshed.</summary>
    [Id(17)] public required DateTimeOffset RefreshedAt { get; init; }
}
