namespace OptimizationRuns.Grains.Runs;

/// <summary>A run as answered: its durable columns and its live state, as of one moment.</summary>
[GenerateSerializer, Immutable, Alias("runs.RunSnapshot")]
public sealed record RunSnapshot
{
    [Id(0)] public required Guid Id { get; init; }
    [Id(1)] public required Guid ProjectId { get; init; }
    [Id(2)] public required string RunName { get; init; }
    [Id(3)] public required OptimizerType OptimizerType { get; init; }
    [Id(4)] public required RunStatus Status { get; init; }
    [Id(5)] public string? Phase { get; init; }
    [Id(6)] public string? Message { get; init; }
    [Id(7)] public required string ConfigJson { get; init; }
    [Id(8)] public required string MetadataJson { get; init; }
    [Id(9)] public required IReadOnlyList<string> Tags { get; init; }
    [Id(10)] public string? Description { get; init; }
    [Id(11)] public string? ProgramName { get; init; }
    [Id(12)] public string? DatasetName { get; init; }
    [Id(13)] public string? MetricName { get; init; }
    [Id(14)] public string? TaskModel { get; init; }
    [Id(15)] public string? PromptModel { get; init; }
    [Id(16)] public decimal? BaselineScore { get; init; }
    /// <summary>The best score of a baseline or full evaluation; minibatch scores never count.</summary>
    [Id(17)] public decimal? BestScore { get; init; }
    /// <summary>The best minibatch score: an estimate shown beside <see cref="BestScore"/>.</summary>
    [Id(18)] public decimal? BestMinibatchScore { get; init; }
    [Id(19)] public decimal? FinalScore { get; init; }
    [Id(20)] public decimal? Improvement { get; init; }
    [Id(21)] public decimal? ImprovementPct { get; init; }
    [Id(22)] public int? TotalIterations { get; init; }
    [Id(23)] public int CompletedIterations { get; init; }
    [Id(24)] public int? CurrentIteration { get; init; }
    [Id(25)] public int? BestIteration { get; init; }
    [Id(26)] public long SamplesEvaluated { get; init; }
    [Id(27)] public long SamplesSuccessful { get; init; }
    [Id(28)] public long SamplesFailed { get; init; }
    [Id(29)] public long PromptTokens { get; init; }
    [Id(30)] public long CompletionTokens { get; init; }
    [Id(31)] public long TotalTokens { get; init; }
    [Id(32)] public decimal CostUsd { get; init; }
    [Id(33)] public double? AvgLatencyMs { get; init; }
    [Id(34)] public double? P50LatencyMs { get; init; }
    [Id(35)] public double? P95LatencyMs { get; init; }
    [Id(36)] public DateTimeOffset? StartTime { get; init; }
    [Id(37)] public DateTimeOffset? EndTime { get; init; }
    [Id(38)] public long? DurationMs { get; init; }
    [Id(39)] public DateTimeOffset? LastHeartbeatAt { get; init; }
    [Id(40)] public string? ErrorMessage { get; init; }
    [Id(41)] public string? ErrorDetailsJson { get; init; }
    [Id(42)] public string? OptimizedProgramJson { get; init; }
    [Id(43)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(44)] public required DateTimeOffset UpdatedAt { get; init; }
    [Id(45)] public string? CreatedBy { get; init; }
    /// <summary>The id of the newest live event, for resuming a stream without gaps.</summary>
    [Id(46)] public long LastEventId { get; init; }
    /// <summary>Samples accepted into the run's buffer and not yet committed (their callers are still waiting).</summary>
    [Id(47)] public int BufferedSamples { get; init; }
}

/// <summary>One live change of a run, numbered in order; the payload is a small JSON object.</summary>
[GenerateSerializer, Immutable, Alias("runs.RunEvent")]
public sealed record RunEvent(
    [property: Id(0)] long Id,
    [property: Id(1)] RunEventKind Kind,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string PayloadJson);
