using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>Create a run. Only <c>runName</c>, <c>optimizerType</c> and <c>config</c> are required.</summary>
public sealed record CreateRunRequest
{
    /// <summary>
    /// A client-chosen key within the caller's project: sending the same create again answers the same run. The run's
    /// id is derived from the project and this key (so it differs from it: use the id answered). Omitted, the gateway
    /// picks an id.
    /// </summary>
    public Guid? Id { get; init; }

    /// <summary>The run's name, at most 200 characters.</summary>
    public required string RunName { get; init; }

    /// <summary>miprov2, bootstrap_fewshot, bootstrap_fewshot_random_search, copro, gepa, simba or custom.</summary>
    public required OptimizerType OptimizerType { get; init; }

    /// <summary>The optimizer's settings, a JSON object (e.g. <c>{"auto": "medium", "num_trials": 18}</c>).</summary>
    public required RawJson Config { get; init; }

    /// <summary>Any JSON object; omitted, <c>{}</c>.</summary>
    public RawJson? Metadata { get; init; }

    /// <summary>
    /// Labels to filter runs by (at most 50, each at most 100 characters, 2,000 bytes together as UTF-8); omitted, none.
    /// </summary>
    public List<string>? Tags { get; init; }

    /// <summary>Free text, at most 4,000 characters.</summary>
    public string? Description { get; init; }

    /// <summary>The optimized program's name, e.g. RAG.</summary>
    public string? ProgramName { get; init; }

    /// <summary>The evaluation data set, e.g. hotpotqa-dev.</summary>
    public string? DatasetName { get; init; }

    /// <summary>The metric that scores each example, e.g. exact_match.</summary>
    public string? MetricName { get; init; }

    /// <summary>The model the program runs on.</summary>
    public string? TaskModel { get; init; }

    /// <summary>The model that proposes instructions.</summary>
    public string? PromptModel { get; init; }

    /// <summary>The unoptimized program's score, 0–1, when known before a baseline iteration is recorded.</summary>
    public decimal? BaselineScore { get; init; }

    /// <summary>How many iterations (trials) the run plans.</summary>
    public int? TotalIterations { get; init; }

    /// <summary>Who or what started the run.</summary>
    public string? CreatedBy { get; init; }

    public CreateRun ToCommand() => new(
        RunName, OptimizerType,
        Config.Text, Metadata?.Text, Tags, Description, ProgramName, DatasetName, MetricName, TaskModel, PromptModel,
        BaselineScore, TotalIterations, CreatedBy);
}

/// <summary>
/// Change a run: descriptive fields, and/or a status transition (<c>running</c>; <c>completed</c> with
/// <c>finalScore</c> and <c>optimizedProgram</c>; <c>failed</c> with <c>errorMessage</c> and <c>errorDetails</c>; <c>cancelled</c>).
/// Every field is optional; an omitted (or null) field stays as it is.
/// </summary>
public sealed record PatchRunRequest
{
    /// <summary>The new status: running, completed, failed or cancelled; omitted, the status stays.</summary>
    public RunStatus? Status { get; init; }

    /// <summary>With <c>completed</c> only: the optimized program's score, 0–1.</summary>
    public decimal? FinalScore { get; init; }

    /// <summary>With <c>completed</c>: the optimized program, any JSON value.</summary>
    public RawJson? OptimizedProgram { get; init; }

    /// <summary>With <c>failed</c>: what went wrong.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>With <c>failed</c>: details, any JSON value.</summary>
    public RawJson? ErrorDetails { get; init; }

    /// <summary>A new name (not empty).</summary>
    public string? RunName { get; init; }

    /// <summary>New free text.</summary>
    public string? Description { get; init; }

    /// <summary>The new tags, replacing the old ones (the same limits as a new run's).</summary>
    public List<string>? Tags { get; init; }

    /// <summary>A new metadata object, replacing the old one.</summary>
    public RawJson? Metadata { get; init; }

    /// <summary>A new program name.</summary>
    public string? ProgramName { get; init; }

    /// <summary>A new data set name.</summary>
    public string? DatasetName { get; init; }

    /// <summary>A new metric name.</summary>
    public string? MetricName { get; init; }

    /// <summary>A new task model.</summary>
    public string? TaskModel { get; init; }

    /// <summary>A new prompt model.</summary>
    public string? PromptModel { get; init; }

    /// <summary>A new planned number of iterations.</summary>
    public int? TotalIterations { get; init; }

    /// <summary>A new baseline score, 0–1.</summary>
    public decimal? BaselineScore { get; init; }

    /// <summary>The grain's patch; a transition's fields without a status are refused rather than silently dropped.</summary>
    public RunPatch ToPatch()
    {
        if (Status is null)
        {
            var orphans = new (string Field, bool Given)[]
                {
                    ("finalScore", FinalScore is not null), ("optimizedProgram", OptimizedProgram is not null),
                    ("errorMessage", ErrorMessage is not null), ("errorDetails", ErrorDetails is not null),
                }
                .Where(f => f.Given)
                .ToDictionary(f => f.Field, f => new[] { $"{f.Field} is given only with the status it belongs to (completed or failed)." });
            if (orphans.Count > 0)
            {
                throw new RunValidationException(orphans);
            }
        }

        return new RunPatch(
            new RunUpdate(RunName, Description, Tags, Metadata?.Text, ProgramName, DatasetName, MetricName, TaskModel,
                PromptModel, TotalIterations, BaselineScore),
            Status is { } status ? new RunTransition(status, FinalScore, OptimizedProgram?.Text, ErrorMessage, ErrorDetails?.Text) : null);
    }
}

/// <summary>A heartbeat with live progress; every field is optional (an empty object is a bare heartbeat).</summary>
public sealed record ProgressRequest
{
    /// <summary>What the optimizer is doing, e.g. bootstrapping, proposing, searching.</summary>
    public string? Phase { get; init; }

    /// <summary>The iteration (trial) under way.</summary>
    public int? CurrentIteration { get; init; }

    /// <summary>How many iterations the run plans, if that changed.</summary>
    public int? TotalIterations { get; init; }

    /// <summary>A line for people watching, e.g. trial 3/18.</summary>
    public string? Message { get; init; }

    public RunProgress ToProgress() => new(Phase, CurrentIteration, TotalIterations, Message);
}

/// <summary>A run with its live state.</summary>
public sealed record RunResponse(
    Guid Id, Guid ProjectId, string RunName, OptimizerType OptimizerType, RunStatus Status, string? Phase, string? Message,
    RawJson Config, RawJson Metadata, IReadOnlyList<string> Tags, string? Description, string? ProgramName,
    string? DatasetName, string? MetricName, string? TaskModel, string? PromptModel, decimal? BaselineScore,
    decimal? BestScore, decimal? BestMinibatchScore, decimal? FinalScore, decimal? Improvement, decimal? ImprovementPct,
    int? TotalIterations, int CompletedIterations, int? CurrentIteration, int? BestIteration, long SamplesEvaluated,
    long SamplesSuccessful, long SamplesFailed, long PromptTokens, long CompletionTokens, long TotalTokens,
    decimal CostUsd, double? AvgLatencyMs, double? P50LatencyMs, double? P95LatencyMs, DateTimeOffset? StartTime,
    DateTimeOffset? EndTime, long? DurationMs, DateTimeOffset? LastHeartbeatAt, string? ErrorMessage, RawJson? ErrorDetails,
    RawJson? OptimizedProgram, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long LastEventId)
{
    public static RunResponse From(RunSnapshot r) => new(
        r.Id, r.ProjectId, r.RunName, r.OptimizerType, r.Status, r.Phase, r.Message, new RawJson(r.ConfigJson),
        new RawJson(r.MetadataJson), r.Tags, r.Description, r.ProgramName, r.DatasetName, r.MetricName, r.TaskModel,
        r.PromptModel, r.BaselineScore, r.BestScore, r.BestMinibatchScore, r.FinalScore, r.Improvement, r.ImprovementPct,
        r.TotalIterations, r.CompletedIterations, r.CurrentIteration, r.BestIteration, r.SamplesEvaluated,
        r.SamplesSuccessful, r.SamplesFailed, r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.CostUsd,
        r.AvgLatencyMs, r.P50LatencyMs, r.P95LatencyMs, r.StartTime, r.EndTime, r.DurationMs, r.LastHeartbeatAt,
        r.ErrorMessage, RawJson.From(r.ErrorDetailsJson), RawJson.From(r.OptimizedProgramJson), r.CreatedBy, r.CreatedAt,
        r.UpdatedAt, r.LastEventId);
}
