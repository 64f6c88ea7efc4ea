namespace OptimizationRuns.Grains.Runs;

/// <summary>Creates a run. JSON documents travel as raw JSON text.</summary>
[GenerateSerializer, Immutable, Alias("runs.CreateRun")]
public sealed record CreateRun(
    [property: Id(0)] string RunName,
    [property: Id(1)] OptimizerType OptimizerType,
    [property: Id(2)] string ConfigJson,
    [property: Id(3)] string? MetadataJson = null,
    [property: Id(4)] IReadOnlyList<string>? Tags = null,
    [property: Id(5)] string? Description = null,
    [property: Id(6)] string? ProgramName = null,
    [property: Id(7)] string? DatasetName = null,
    [property: Id(8)] string? MetricName = null,
    [property: Id(9)] string? TaskModel = null,
    [property: Id(10)] string? PromptModel = null,
    [property: Id(11)] decimal? BaselineScore = null,
    [property: Id(12)] int? TotalIterations = null,
    [property: Id(13)] string? CreatedBy = null);

/// <summary>A status change: start, complete (with the final score), fail (with the error) or cancel.</summary>
[GenerateSerializer, Immutable, Alias("runs.RunTransition")]
public sealed record RunTransition(
    [property: Id(0)] RunStatus Status,
    [property: Id(1)] decimal? FinalScore = null,
    [property: Id(2)] string? OptimizedProgramJson = null,
    [property: Id(3)] string? ErrorMessage = null,
    [property: Id(4)] string? ErrorDetailsJson = null);

/// <summary>Changes descriptive fields of a run; null leaves a field as it is.</summary>
[GenerateSerializer, Immutable, Alias("runs.RunUpdate")]
public sealed record RunUpdate(
    [property: Id(0)] string? RunName = null,
    [property: Id(1)] string? Description = null,
    [property: Id(2)] IReadOnlyList<string>? Tags = null,
    [property: Id(3)] string? MetadataJson = null,
    [property: Id(4)] string? ProgramName = null,
    [property: Id(5)] string? DatasetName = null,
    [property: Id(6)] string? MetricName = null,
    [property: Id(7)] string? TaskModel = null,
    [property: Id(8)] string? PromptModel = null,
    [property: Id(9)] int? TotalIterations = null,
    [property: Id(10)] decimal? BaselineScore = null)
{
    /// <summary>Whether the update changes anything at all.</summary>
    public bool IsEmpty => this == new RunUpdate();
}

/// <summary>A change of a run: descriptive fields, a status transition, or both, applied together or not at all.</summary>
[GenerateSerializer, Immutable, Alias("runs.RunPatch")]
public sealed record RunPatch(
    [property: Id(0)] RunUpdate Update,
    [property: Id(1)] RunTransition? Transition = null);

/// <summary>A heartbeat with live progress; every field is optional.</summary>
[GenerateSerializer, Immutable, Alias("runs.RunProgress")]
public sealed record RunProgress(
    [property: Id(0)] string? Phase = null,
    [property: Id(1)] int? CurrentIteration = null,
    [property: Id(2)] int? TotalIterations = null,
    [property: Id(3)] string? Message = null);

/// <summary>
/// One iteration (trial). Recorded when it starts (no score) and again when it ends (with one). A null
/// <see cref="Kind"/> keeps the kind already recorded; a new iteration without one is a minibatch trial.
/// </summary>
[GenerateSerializer, Immutable, Alias("runs.IterationRecord")]
public sealed record IterationRecord(
    [property: Id(0)] int Iteration,
    [property: Id(1)] IterationKind? Kind,
    [property: Id(2)] decimal? Score = null,
    [property: Id(3)] string? ParamsJson = null,
    [property: Id(4)] string? CandidateProgramJson = null,
    [property: Id(5)] int? SamplesEvaluated = null,
    [property: Id(6)] int? SamplesSuccessful = null,
    [property: Id(7)] int? SamplesFailed = null,
    [property: Id(8)] long? PromptTokens = null,
    [property: Id(9)] long? CompletionTokens = null,
    [property: Id(10)] decimal? CostUsd = null,
    [property: Id(11)] DateTimeOffset? StartedAt = null,
    [property: Id(12)] DateTimeOffset? CompletedAt = null,
    [property: Id(13)] string? MetadataJson = null,
    [property: Id(14)] string? TraceId = null,
    [property: Id(15)] string? SpanId = null);

/// <summary>What recording an iteration did.</summary>
public enum IterationOutcome
{
    /// <summary>A new iteration row.</summary>
    Inserted,
    /// <summary>An iteration recorded before (or created by its samples) now has its result.</summary>
    Updated,
    /// <summary>The same iteration again: nothing changed.</summary>
    Duplicate,
}

/// <summary>One evaluated example. Identified by (run, iteration, sample index), so a retry is a duplicate.</summary>
[GenerateSerializer, Immutable, Alias("runs.SampleRecord")]
public sealed record SampleRecord(
    [property: Id(0)] int Iteration,
    [property: Id(1)] int SampleIndex,
    [property: Id(2)] string? ExampleId = null,
    [property: Id(3)] string? InputsJson = null,
    [property: Id(4)] string? ExpectedJson = null,
    [property: Id(5)] string? PredictionJson = null,
    [property: Id(6)] decimal? Score = null,
    [property: Id(7)] bool Success = true,
    [property: Id(8)] string? Error = null,
    [property: Id(9)] double? LatencyMs = null,
    [property: Id(10)] int PromptTokens = 0,
    [property: Id(11)] int CompletionTokens = 0,
    [property: Id(12)] decimal CostUsd = 0,
    [property: Id(13)] string? TraceId = null,
    [property: Id(14)] string? SpanId = null);

/// <summary>What recording a batch of samples did.</summary>
[GenerateSerializer, Immutable, Alias("runs.SampleBatchResult")]
public sealed record SampleBatchResult(
    [property: Id(0)] int Accepted,
    [property: Id(1)] int Inserted,
    [property: Id(2)] int Duplicates);
