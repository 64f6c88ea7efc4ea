using System.ComponentModel;
using OptimizationRuns.Grains.Comparisons;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>The iteration a side of a comparison resolved to.</summary>
public sealed record ComparedIterationResponse(
    Guid RunId, int Iteration, IterationKind Kind,
    [property: Description("The iteration's recorded score")] decimal? Score,
    [property: Description("true when the request named no iteration for this side and this one was chosen: the best full evaluation, else the baseline")] bool Defaulted)
{
    public static ComparedIterationResponse From(ComparedIteration i) => new(i.RunId, i.Iteration, i.Kind, i.Score, i.Defaulted);
}

/// <summary>A two-sided confidence interval of the mean score delta.</summary>
public sealed record ConfidenceIntervalResponse(
    double Level, double Low, double High,
    [property: Description("paired-t: mean ± t(0.975, n − 1) · sd / √n over the scored pairs' deltas")] string Method)
{
    public const string PairedT = "paired-t";

    public static ConfidenceIntervalResponse? From(ConfidenceInterval? ci) => ci is null ? null : new(ci.Level, ci.Low, ci.High, PairedT);
}

/// <summary>Example keys that occur more than once within one iteration; only the lowest sample index of each is paired.</summary>
public sealed record DuplicatesResponse(
    [property: Description("How many example keys occur more than once")] int Count,
    [property: Description("Samples left unpaired because a sample with a lower index has the same key")] int ExtraSamples,
    [property: Description("The first 100 such keys, in key order")] IReadOnlyList<string> ExampleKeys)
{
    public static DuplicatesResponse From(DuplicateExamples d) => new(d.Count, d.ExtraSamples, d.ExampleKeys);
}

/// <summary>
/// Iteration A compared with iteration B, example by example (deltas are B − A). Samples are paired by example key: the
/// example id, or for a sample without one <c>md5:</c> and the MD5 of its inputs' jsonb text. Means are per paired
/// example; score means and the interval over the pairs where both samples are scored.
/// </summary>
public sealed record CompareResponse(
    ComparedIterationResponse A, ComparedIterationResponse B,
    [property: Description("Samples stored for A's iteration")] int SamplesA,
    [property: Description("Samples stored for B's iteration")] int SamplesB,
    [property: Description("Example keys in both iterations")] int Paired,
    [property: Description("Paired examples that B scored higher")] int Improved,
    [property: Description("Paired examples that B scored lower")] int Regressed,
    [property: Description("Paired examples scored the same")] int Unchanged,
    [property: Description("Paired examples of which a sample has no score")] int Unscored,
    [property: Description("Example keys in A only")] int OnlyA,
    [property: Description("Example keys in B only")] int OnlyB,
    [property: Description("paired / (paired + onlyA + onlyB); 0 when both are empty")] double Overlap,
    [property: Description("true when fewer than half of the union's examples are paired")] bool LowOverlap,
    double? MeanScoreA, double? MeanScoreB, double? MeanDelta,
    [property: Description("95 % interval of meanDelta; null with fewer than two scored pairs")] ConfidenceIntervalResponse? MeanDeltaCi,
    [property: Description("Paired examples successful in A")] int SuccessA,
    [property: Description("Paired examples successful in B")] int SuccessB,
    [property: Description("Paired examples failed in A, successful in B")] int SuccessGained,
    [property: Description("Paired examples successful in A, failed in B")] int SuccessLost,
    [property: Description("McNemar's exact two-sided p-value of the success flips (binomial on successGained vs successLost); 1 when none flipped")] double McnemarP,
    double? MeanCostUsdA, double? MeanCostUsdB, double? MeanCostUsdDelta,
    [property: Description("Prompt plus completion tokens")] double? MeanTokensA, double? MeanTokensB, double? MeanTokensDelta,
    [property: Description("Over the pairs where both samples have a latency")] double? MeanLatencyMsA, double? MeanLatencyMsB, double? MeanLatencyMsDelta,
    DuplicatesResponse DuplicatesA, DuplicatesResponse DuplicatesB)
{
    public static CompareResponse From(RunComparison c) => new(
        ComparedIterationResponse.From(c.A), ComparedIterationResponse.From(c.B), c.SamplesA, c.SamplesB, c.Paired,
        c.Improved, c.Regressed, c.Unchanged, c.Unscored, c.OnlyA, c.OnlyB, c.Overlap, c.LowOverlap, c.MeanScoreA,
        c.MeanScoreB, c.MeanDelta, ConfidenceIntervalResponse.From(c.MeanDeltaCi), c.SuccessA, c.SuccessB, c.SuccessGained,
        c.SuccessLost, c.McnemarP, c.MeanCostUsdA, c.MeanCostUsdB, c.MeanCostUsdDelta, c.MeanTokensA, c.MeanTokensB,
        c.MeanTokensDelta, c.MeanLatencyMsA, c.MeanLatencyMsB, c.MeanLatencyMsDelta, DuplicatesResponse.From(c.DuplicatesA),
        DuplicatesResponse.From(c.DuplicatesB));
}

/// <summary>One side's sample of an example pair.</summary>
public sealed record PairedSampleResponse(
    int SampleIndex, decimal? Score, bool Success, RawJson? Prediction, string? Error, double? LatencyMs, int PromptTokens,
    int CompletionTokens, decimal CostUsd, string? TraceId, string? SpanId)
{
    public static PairedSampleResponse? From(PairedSample? s) => s is null ? null : new(
        s.SampleIndex, s.Score, s.Success, RawJson.From(s.PredictionJson), s.Error, s.LatencyMs, s.PromptTokens,
        s.CompletionTokens, s.CostUsd, s.TraceId, s.SpanId);
}

/// <summary>One example of a comparison and its sample on each side (null on the side it is missing from).</summary>
public sealed record ExamplePairResponse(
    [property: Description("The pairing key: the example id, or md5: and the MD5 of the inputs' jsonb text")] string ExampleKey,
    string? ExampleId,
    [property: Description("improved, regressed, unchanged, unscored, onlyA or onlyB")] string Bucket,
    [property: Description("b.score − a.score, when both are scored")] decimal? Delta,
    [property: Description("As A recorded them (B's when the example is only in B)")] RawJson? Inputs,
    RawJson? Expected, PairedSampleResponse? A, PairedSampleResponse? B)
{
    public static ExamplePairResponse From(ExamplePair p) => new(
        p.ExampleKey, p.ExampleId, p.Bucket.ToName(), p is { A.Score: { } a, B.Score: { } b } ? b - a : null,
        RawJson.From(p.InputsJson), RawJson.From(p.ExpectedJson), PairedSampleResponse.From(p.A), PairedSampleResponse.From(p.B));
}

/// <summary>A page of a comparison's pairs in example-key order, with the iterations they compare.</summary>
public sealed record ComparePageResponse(
    ComparedIterationResponse A, ComparedIterationResponse B,
    [property: Description("The bucket asked for; null for every pair")] string? Bucket,
    IReadOnlyList<ExamplePairResponse> Items,
    [property: Description("Pass as cursor for the next page (it keeps the iterations of this one); null on the last page")] string? NextCursor);
