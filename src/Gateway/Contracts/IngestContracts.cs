using System.ComponentModel;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// Record one iteration (trial); send it at its start without a score and at its end with one. Only
/// <c>iteration</c> is required. A completion may leave out what the start sent: omitted fields keep their recorded values.
/// </summary>
public sealed record IterationRequest
{
    /// <summary>The iteration's number in the run, 0 or more; with the run it identifies the iteration.</summary>
    public required int Iteration { get; init; }

    /// <summary>
    /// baseline, minibatch or full. When omitted on a new iteration it is minibatch; when omitted on a completion of an
    /// already recorded iteration the recorded kind is kept.
    /// </summary>
    public IterationKind? Kind { get; init; }

    /// <summary>The score, 0–1. Omitted at the start; sent at the end. A completed score cannot change (409).</summary>
    public decimal? Score { get; init; }

    /// <summary>The candidate chosen per predictor, a JSON object, e.g. <c>{"predictors": {"0": {"instruction": 2, "demos": 1}}}</c>; omitted, <c>{}</c> (or what was recorded).</summary>
    public RawJson? Params { get; init; }

    /// <summary>The evaluated program, any JSON value.</summary>
    public RawJson? CandidateProgram { get; init; }

    /// <summary>Examples evaluated. The iteration keeps the largest count reported, here or by its samples.</summary>
    [DefaultValue(0)]
    public int? SamplesEvaluated { get; init; }

    /// <summary>Examples that succeeded (with <c>samplesEvaluated</c>).</summary>
    [DefaultValue(0)]
    public int? SamplesSuccessful { get; init; }

    /// <summary>Examples that failed (with <c>samplesEvaluated</c>).</summary>
    [DefaultValue(0)]
    public int? SamplesFailed { get; init; }

    /// <summary>Prompt tokens used. The iteration keeps the largest total reported, here or by its samples.</summary>
    [DefaultValue(0L)]
    public long? PromptTokens { get; init; }

    /// <summary>Completion tokens used, like <c>promptTokens</c>.</summary>
    [DefaultValue(0L)]
    public long? CompletionTokens { get; init; }

    /// <summary>Cost in US dollars, like <c>promptTokens</c>.</summary>
    [DefaultValue(typeof(decimal), "0")]
    public decimal? CostUsd { get; init; }

    /// <summary>When the iteration started (ISO-8601).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it ended (ISO-8601), not before <c>startedAt</c>.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Any JSON object; omitted, <c>{}</c> (or what was recorded).</summary>
    public RawJson? Metadata { get; init; }

    /// <summary>The W3C trace id of the iteration's work: 32 lower-case hexadecimal digits.</summary>
    public string? TraceId { get; init; }

    /// <summary>The span id within that trace: 16 lower-case hexadecimal digits.</summary>
    public string? SpanId { get; init; }

    public IterationRecord ToRecord() => new(
        Iteration, Kind, Score, Params?.Text, CandidateProgram?.Text, SamplesEvaluated, SamplesSuccessful, SamplesFailed,
        PromptTokens, CompletionTokens, CostUsd, StartedAt, CompletedAt, Metadata?.Text, TraceId, SpanId);
}

/// <summary>What recording an iteration did: <c>inserted</c>, <c>updated</c> (completed) or <c>duplicate</c>.</summary>
public sealed record IterationRecorded(int Iteration, IterationOutcome Outcome);

/// <summary>One evaluated example. Only <c>iteration</c> and <c>sampleIndex</c> are required.</summary>
public sealed record SampleRequest
{
    /// <summary>The iteration the example was evaluated in; it need not be recorded yet.</summary>
    public required int Iteration { get; init; }

    /// <summary>The sample's number within its iteration; (iteration, sampleIndex) identifies it, so a retry is a duplicate.</summary>
    public required int SampleIndex { get; init; }

    /// <summary>The example's id in the data set, to follow one example across iterations and runs.</summary>
    public string? ExampleId { get; init; }

    /// <summary>The example's inputs, any JSON value.</summary>
    public RawJson? Inputs { get; init; }

    /// <summary>The expected output, any JSON value.</summary>
    public RawJson? Expected { get; init; }

    /// <summary>The program's prediction, any JSON value.</summary>
    public RawJson? Prediction { get; init; }

    /// <summary>The metric's score, 0–1.</summary>
    public decimal? Score { get; init; }

    /// <summary>Whether the example was evaluated without error; omitted, true exactly when <c>error</c> is null.</summary>
    public bool? Success { get; init; }

    /// <summary>What went wrong, at most 10,000 characters.</summary>
    public string? Error { get; init; }

    /// <summary>How long the evaluation took, in milliseconds.</summary>
    public double? LatencyMs { get; init; }

    /// <summary>Prompt tokens used.</summary>
    [DefaultValue(0)]
    public int PromptTokens { get; init; }

    /// <summary>Completion tokens used.</summary>
    [DefaultValue(0)]
    public int CompletionTokens { get; init; }

    /// <summary>Cost in US dollars.</summary>
    [DefaultValue(typeof(decimal), "0")]
    public decimal CostUsd { get; init; }

    /// <summary>The W3C trace id of the example's LM calls: 32 lower-case hexadecimal digits.</summary>
    public string? TraceId { get; init; }

    /// <summary>The span id within that trace: 16 lower-case hexadecimal digits.</summary>
    public string? SpanId { get; init; }

    public SampleRecord ToRecord() => new(
        Iteration, SampleIndex, ExampleId, Inputs?.Text, Expected?.Text, Prediction?.Text, Score, Success ?? Error is null,
        Error, LatencyMs, PromptTokens, CompletionTokens, CostUsd, TraceId, SpanId);
}

/// <summary>A batch of samples, at least one and at most 5,000.</summary>
public sealed record SampleBatchRequest
{
    /// <summary>The samples, 1 to 5,000.</summary>
    public required List<SampleRequest> Samples { get; init; }
}

/// <summary>What a batch did: every sample accepted, some inserted, the rest already stored (retries).</summary>
public sealed record SampleBatchResponse(int Accepted, int Inserted, int Duplicates);
