using System.Text.Json;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>Create a run. Only <c>runName</c>, <c>optimizerType</c> and <c>config</c> are required.</summary>
public sealed record CreateRunRequest(
    Guid? Id, string? RunName, OptimizerType? OptimizerType, JsonElement? Config, JsonElement? Metadata,
    List<string>? Tags, string? Description, string? ProgramName, string? DatasetName, string? MetricName,
    string? TaskModel, string? PromptModel, decimal? BaselineScore, int? TotalIterations, string? CreatedBy)
{
    public CreateRun ToCommand() => new(
        RunName ?? "", OptimizerType ?? default, Config.Text()!, Metadata.Text(), Tags, Description, ProgramName,
        DatasetName, MetricName, TaskModel, PromptModel, BaselineScore, TotalIterations, CreatedBy);
}

/// <summary>
/// Change a run: descriptive fields, and/or a status transition (<c>running</c>; <c>completed</c> with
/// <c>finalScore</c> and <c>optimizedProgram</c>; <c>failed</c> with <c>errorMessage</c> and <c>errorDetails</c>; <c>cancelled</c>).
/// </summary>
public sealed record PatchRunRequest(
    RunStatus? Status, decimal? FinalScore, JsonElement? OptimizedProgram, string? ErrorMessage, JsonElement? ErrorDetails,
    string? RunName, string? Description, List<string>? Tags, JsonElement? Metadata, string? ProgramName,
    string? DatasetName, string? MetricName, string? TaskModel, string? PromptModel, int? TotalIterations, decimal? BaselineScore)
{
    public RunPatch ToPatch() => new(
        new RunUpdate(RunName, Description, Tags, Metadata.Text(), ProgramName, DatasetName, MetricName, TaskModel,
            PromptModel, TotalIterations, BaselineScore),
        Status is { } status ? new RunTransition(status, FinalScore, OptimizedProgram.Text(), ErrorMessage, ErrorDetails.Text()) : null);
}

/// <summary>A heartbeat with live progress.</summary>
public sealed record ProgressRequest(string? Phase, int? CurrentIteration, int? TotalIterations, string? Message)
{
    public RunProgress ToProgress() => new(Phase, CurrentIteration, TotalIterations, Message);
}

/// <summary>A run with its live state.</summary>
public sealed record RunResponse(
    Guid Id, Guid ProjectId, string RunName, OptimizerType OptimizerType, RunStatus Status, string? Phase, string? Message,
    JsonElement? Config, JsonElement? Metadata, IReadOnlyList<string> Tags, string? Description, string? ProgramName,
    string? DatasetName, string? MetricName, string? TaskModel, string? PromptModel, decimal? BaselineScore,
    decimal? BestScore, decimal? BestMinibatchScore, decimal? FinalScore, decimal? Improvement, decimal? ImprovementPct,
    int? TotalIterations, int CompletedIterations, int? CurrentIteration, int? BestIteration, long SamplesEvaluated,
    long SamplesSuccessful, long SamplesFailed, long PromptTokens, long CompletionTokens, long TotalTokens,
    decimal CostUsd, double? AvgLatencyMs, double? P50LatencyMs, double? P95LatencyMs, DateTime? StartTime,
    DateTime? EndTime, long? DurationMs, DateTime? LastHeartbeatAt, string? ErrorMessage, JsonElement? ErrorDetails,
    JsonElement? OptimizedProgram, string? CreatedBy, DateTime CreatedAt, DateTime UpdatedAt, long LastEventId)
{
    public static RunResponse From(RunSnapshot r) => new(
        r.Id, r.ProjectId, r.RunName, r.OptimizerType, r.Status, r.Phase, r.Message, Json.Element(r.ConfigJson),
        Json.Element(r.MetadataJson), r.Tags, r.Description, r.ProgramName, r.DatasetName, r.MetricName, r.TaskModel,
        r.PromptModel, r.BaselineScore, r.BestScore, r.BestMinibatchScore, r.FinalScore, r.Improvement, r.ImprovementPct,
        r.TotalIterations, r.CompletedIterations, r.CurrentIteration, r.BestIteration, r.SamplesEvaluated,
        r.SamplesSuccessful, r.SamplesFailed, r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.CostUsd,
        r.AvgLatencyMs, r.P50LatencyMs, r.P95LatencyMs, r.StartTime.Utc(), r.EndTime.Utc(), r.DurationMs,
        r.LastHeartbeatAt.Utc(), r.ErrorMessage, Json.Element(r.ErrorDetailsJson), Json.Element(r.OptimizedProgramJson),
        r.CreatedBy, r.CreatedAt.UtcDateTime, r.UpdatedAt.UtcDateTime, r.LastEventId);
}
