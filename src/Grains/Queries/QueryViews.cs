using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Queries;

/// <summary>Rows of the read side as the grain contracts carry them. Stored times are UTC.</summary>
public static class QueryViews
{
    public static IterationView ToView(IterationDetailRow row) => new()
    {
        Iteration = row.Iteration,
        Kind = DomainNames.ParseName<IterationKind>(row.Kind),
        Score = row.Score,
        IsBest = row.IsBest,
        ParamsJson = row.Params,
        CandidateProgramJson = row.CandidateProgram,
        SamplesEvaluated = row.SamplesEvaluated,
        SamplesSuccessful = row.SamplesSuccessful,
        SamplesFailed = row.SamplesFailed,
        PromptTokens = row.PromptTokens,
        CompletionTokens = row.CompletionTokens,
        CostUsd = row.CostUsd,
        AvgLatencyMs = row.AvgLatencyMs,
        StartedAt = Utc(row.StartedAt),
        CompletedAt = Utc(row.CompletedAt),
        DurationMs = row.DurationMs,
        TraceId = row.TraceId,
        SpanId = row.SpanId,
        MetadataJson = row.Metadata,
        CreatedAt = Utc(row.CreatedAt),
        UpdatedAt = Utc(row.UpdatedAt),
    };

    public static SampleView ToView(SampleRow row) => new()
    {
        RunId = row.RunId,
        Iteration = row.Iteration,
        SampleIndex = row.SampleIndex,
        ExampleId = row.ExampleId,
        InputsJson = row.Inputs,
        ExpectedJson = row.Expected,
        PredictionJson = row.Prediction,
        Score = row.Score,
        Success = row.Success,
        Error = row.Error,
        LatencyMs = row.LatencyMs,
        PromptTokens = row.PromptTokens,
        CompletionTokens = row.CompletionTokens,
        CostUsd = row.CostUsd,
        TraceId = row.TraceId,
        SpanId = row.SpanId,
        CreatedAt = Utc(row.CreatedAt),
    };

    public static OptimizerAnalytics ToView(AnalyticsRow row) => new()
    {
        OptimizerType = DomainNames.ParseName<OptimizerType>(row.OptimizerType),
        TotalRuns = row.TotalRuns,
        PendingRuns = row.PendingRuns,
        RunningRuns = row.RunningRuns,
        StalledRuns = row.StalledRuns,
        CompletedRuns = row.CompletedRuns,
        FailedRuns = row.FailedRuns,
        CancelledRuns = row.CancelledRuns,
        AvgFinalScore = row.AvgFinalScore,
        MaxFinalScore = row.MaxFinalScore,
        AvgImprovement = row.AvgImprovement,
        AvgImprovementPct = row.AvgImprovementPct,
        TotalTokens = row.TotalTokens,
        TotalCostUsd = row.TotalCostUsd,
        AvgDurationMs = row.AvgDurationMs,
        SamplesEvaluated = row.SamplesEvaluated,
        LastRunAt = Utc(row.LastRunAt),
        RefreshedAt = Utc(row.RefreshedAt),
    };

    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    public static DateTimeOffset? Utc(DateTime? value) => value is { } v ? Utc(v) : null;
}
