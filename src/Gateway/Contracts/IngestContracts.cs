using System.Text.Json;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>Record one iteration (trial); send it at its start without a score and at its end with one.</summary>
public sealed record IterationRequest(
    int? Iteration, IterationKind? Kind, decimal? Score, JsonElement? Params, JsonElement? CandidateProgram,
    int? SamplesEvaluated, int? SamplesSuccessful, int? SamplesFailed, long? PromptTokens, long? CompletionTokens,
    decimal? CostUsd, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, JsonElement? Metadata, string? TraceId,
    string? SpanId)
{
    public IterationRecord ToRecord() => new(
        Iteration ?? -1, Kind, Score, Params.Text(), CandidateProgram.Text(), SamplesEvaluated,
        SamplesSuccessful, SamplesFailed, PromptTokens, CompletionTokens, CostUsd, StartedAt, CompletedAt,
        Metadata.Text(), TraceId, SpanId);
}

/// <summary>What recording an iteration did: <c>inserted</c>, <c>updated</c> (completed) or <c>duplicate</c>.</summary>
public sealed record IterationRecorded(int Iteration, IterationOutcome Outcome);

/// <summary>One evaluated example.</summary>
public sealed record SampleRequest(
    int? Iteration, int? SampleIndex, string? ExampleId, JsonElement? Inputs, JsonElement? Expected,
    JsonElement? Prediction, decimal? Score, bool? Success, string? Error, double? LatencyMs, int? PromptTokens,
    int? CompletionTokens, decimal? CostUsd, string? TraceId, string? SpanId)
{
    public SampleRecord ToRecord() => new(
        Iteration ?? -1, SampleIndex ?? -1, ExampleId, Inputs.Text(), Expected.Text(), Prediction.Text(), Score,
        Success ?? Error is null, Error, LatencyMs, PromptTokens ?? 0, CompletionTokens ?? 0, CostUsd ?? 0, TraceId, SpanId);
}

/// <summary>A batch of at most 5,000 samples.</summary>
public sealed record SampleBatchRequest(List<SampleRequest>? Samples);

/// <summary>What a batch did: every sample accepted, some inserted, the rest already stored (retries).</summary>
public sealed record SampleBatchResponse(int Accepted, int Inserted, int Duplicates);
