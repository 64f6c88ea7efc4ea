using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>A list: its items and, when more follow, the cursor of the next page (else null).</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>One iteration (trial) of a run.</summary>
public sealed record IterationResponse(
    int Iteration, IterationKind Kind, decimal? Score, bool IsBest, RawJson Params, RawJson? CandidateProgram,
    int SamplesEvaluated, int SamplesSuccessful, int SamplesFailed, long PromptTokens, long CompletionTokens,
    long TotalTokens, decimal CostUsd, double? AvgLatencyMs, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt,
    long? DurationMs, string? TraceId, string? SpanId, RawJson Metadata, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static IterationResponse From(IterationView i) => new(
        i.Iteration, i.Kind, i.Score, i.IsBest, new RawJson(i.ParamsJson), RawJson.From(i.CandidateProgramJson),
        i.SamplesEvaluated, i.SamplesSuccessful, i.SamplesFailed, i.PromptTokens, i.CompletionTokens,
        i.PromptTokens + i.CompletionTokens, i.CostUsd, i.AvgLatencyMs, i.StartedAt, i.CompletedAt, i.DurationMs,
        i.TraceId, i.SpanId, new RawJson(i.MetadataJson), i.CreatedAt, i.UpdatedAt);
}

/// <summary>One evaluated example.</summary>
public sealed record SampleResponse(
    Guid RunId, int Iteration, int SampleIndex, string? ExampleId, RawJson? Inputs, RawJson? Expected,
    RawJson? Prediction, decimal? Score, bool Success, string? Error, double? LatencyMs, int PromptTokens,
    int CompletionTokens, decimal CostUsd, string? TraceId, string? SpanId, DateTimeOffset CreatedAt)
{
    public static SampleResponse From(SampleView s) => new(
        s.RunId, s.Iteration, s.SampleIndex, s.ExampleId, RawJson.From(s.InputsJson), RawJson.From(s.ExpectedJson),
        RawJson.From(s.PredictionJson), s.Score, s.Success, s.Error, s.LatencyMs, s.PromptTokens, s.CompletionTokens,
        s.CostUsd, s.TraceId, s.SpanId, s.CreatedAt);
}

/// <summary>A run's summary: the run's scores and counts with what its iterations and samples say.</summary>
public sealed record RunSummaryResponse(
    Guid RunId, string RunName, OptimizerType OptimizerType, RunStatus Status, decimal? BaselineScore, decimal? BestScore,
    decimal? BestMinibatchScore, decimal? FinalScore, decimal? Improvement, decimal? ImprovementPct, int? BestIteration,
    int? TotalIterations, int CompletedIterations,
    [property: Description("Iterations per kind (baseline, minibatch, full)")] IReadOnlyDictionary<string, int> IterationsByKind,
    long SamplesEvaluated, long SamplesSuccessful, long SamplesFailed, decimal? SuccessRate, long TotalTokens,
    decimal CostUsd, double? AvgLatencyMs, long? DurationMs, DateTimeOffset? StartTime, DateTimeOffset? EndTime)
{
    private static readonly JsonSerializerOptions SummaryJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The JSON object of <c>run_summary()</c>.</summary>
    public static RunSummaryResponse Parse(string json)
    {
        var summary = JsonSerializer.Deserialize<Stored>(json, SummaryJson)
            ?? throw new InvalidOperationException("run_summary() answered null for a visible run.");
        return new RunSummaryResponse(summary.RunId, summary.RunName, summary.OptimizerType, summary.Status,
            summary.BaselineScore, summary.BestScore, summary.BestMinibatchScore, summary.FinalScore, summary.Improvement,
            summary.ImprovementPct, summary.BestIteration, summary.TotalIterations, summary.CompletedIterations,
            summary.IterationsByKind ?? new Dictionary<string, int>(), summary.SamplesEvaluated, summary.SamplesSuccessful,
            summary.SamplesFailed, summary.SuccessRate, summary.TotalTokens, summary.CostUsd, summary.AvgLatencyMs,
            summary.DurationMs, summary.StartTime, summary.EndTime);
    }

    private sealed record Stored(
        Guid RunId, string RunName, OptimizerType OptimizerType, RunStatus Status, decimal? BaselineScore, decimal? BestScore,
        decimal? BestMinibatchScore, decimal? FinalScore, decimal? Improvement, decimal? ImprovementPct, int? BestIteration,
        int? TotalIterations, int CompletedIterations, Dictionary<string, int>? IterationsByKind, long SamplesEvaluated,
        long SamplesSuccessful, long SamplesFailed, decimal? SuccessRate, long TotalTokens, decimal CostUsd,
        double? AvgLatencyMs, long? DurationMs, DateTimeOffset? StartTime, DateTimeOffset? EndTime);
}

/// <summary>The project's analytics per optimizer, as of <c>refreshedAt</c>.</summary>
public sealed record AnalyticsResponse(IReadOnlyList<OptimizerAnalyticsResponse> Items, DateTimeOffset? RefreshedAt);

/// <summary>One optimizer's runs in the project: counts per status, scores, usage.</summary>
public sealed record OptimizerAnalyticsResponse(
    OptimizerType OptimizerType, long TotalRuns, long PendingRuns, long RunningRuns, long StalledRuns, long CompletedRuns,
    long FailedRuns, long CancelledRuns, decimal? AvgFinalScore, decimal? MaxFinalScore, decimal? AvgImprovement,
    decimal? AvgImprovementPct, long TotalTokens, decimal TotalCostUsd, long? AvgDurationMs, long SamplesEvaluated,
    DateTimeOffset? LastRunAt)
{
    public static OptimizerAnalyticsResponse From(OptimizerAnalytics a) => new(
        a.OptimizerType, a.TotalRuns, a.PendingRuns, a.RunningRuns, a.StalledRuns, a.CompletedRuns, a.FailedRuns,
        a.CancelledRuns, a.AvgFinalScore, a.MaxFinalScore, a.AvgImprovement, a.AvgImprovementPct, a.TotalTokens,
        a.TotalCostUsd, a.AvgDurationMs, a.SamplesEvaluated, a.LastRunAt);

    public static AnalyticsResponse ListFrom(IReadOnlyList<OptimizerAnalytics> rows) =>
        new(rows.Select(From).ToList(), rows.Count > 0 ? rows.Max(r => r.RefreshedAt) : null);
}
