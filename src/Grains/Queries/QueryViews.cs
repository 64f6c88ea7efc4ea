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

    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    public static DateTimeOffset? Utc(DateTime? value) => value is { } v ? Utc(v) : null;
}
