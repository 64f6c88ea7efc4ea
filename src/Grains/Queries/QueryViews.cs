using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Queries;

/// <summary>Rows of the read side as the grain contracts carry them. Stored times are UTC.</summary>
public static class QueryViews
{
    /// <summary>A run as its row has it: no live state (phase, message, heartbeat, latency percentiles).</summary>
    public static RunSnapshot ToSnapshot(RunRow run) => new()
    {
        Id = run.Id,
        ProjectId = run.ProjectId,
        RunName = run.RunName,
        OptimizerType = DomainNames.ParseName<OptimizerType>(run.OptimizerType),
        Status = DomainNames.ParseName<RunStatus>(run.Status),
        ConfigJson = run.Config,
        MetadataJson = run.Metadata,
        Tags = run.Tags,
        Description = run.Description,
        ProgramName = run.ProgramName,
        DatasetName = run.DatasetName,
        MetricName = run.MetricName,
        TaskModel = run.TaskModel,
        PromptModel = run.PromptModel,
        BaselineScore = run.BaselineScore,
        BestScore = run.BestScore,
        BestMinibatchScore = run.BestMinibatchScore,
        FinalScore = run.FinalScore,
        Improvement = run.Improvement,
        ImprovementPct = run.ImprovementPct,
        TotalIterations = run.TotalIterations,
        CompletedIterations = run.CompletedIterations,
        CurrentIteration = run.CurrentIteration,
        BestIteration = run.BestIteration,
        SamplesEvaluated = run.SamplesEvaluated,
        SamplesSuccessful = run.SamplesSuccessful,
        SamplesFailed = run.SamplesFailed,
        PromptTokens = run.PromptTokens,
        CompletionTokens = run.CompletionTokens,
        TotalTokens = run.TotalTokens,
        CostUsd = run.CostUsd,
        AvgLatencyMs = run.AvgLatencyMs,
        StartTime = Utc(run.StartTime),
        EndTime = Utc(run.EndTime),
        DurationMs = run.DurationMs,
        ErrorMessage = run.ErrorMessage,
        ErrorDetailsJson = run.ErrorDetails,
        OptimizedProgramJson = run.OptimizedProgram,
        CreatedAt = Utc(run.CreatedAt),
        UpdatedAt = Utc(run.UpdatedAt),
        CreatedBy = run.CreatedBy,
    };

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
