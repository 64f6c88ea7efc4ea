using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// The run list's query string, bound with <c>[AsParameters]</c> under the contract's lower-case names. Values arrive
/// as text and are read by <see cref="QueryParameters"/>, so a bad one answers 400 naming its parameter.
/// </summary>
public sealed record RunListParameters(
    [property: FromQuery(Name = "status"), Description("pending, running, stalled, completed, failed or cancelled")] string? Status,
    [property: FromQuery(Name = "optimizerType"), Description("miprov2, bootstrap_fewshot, bootstrap_fewshot_random_search, copro, gepa, simba or custom")] string? OptimizerType,
    [property: FromQuery(Name = "tag"), Description("Repeatable: the run carries every tag given")] string[]? Tag,
    [property: FromQuery(Name = "config"), Description("A JSON object the run's config contains, e.g. {\"model\":\"gpt-4\"}")] string? Config,
    [property: FromQuery(Name = "metadata"), Description("A JSON object the run's metadata contains, e.g. {\"git_sha\":\"c4ca423\"}")] string? Metadata,
    [property: FromQuery(Name = "q"), Description("A case-insensitive substring of the run name")] string? Q,
    [property: FromQuery(Name = "minScore"), Description("The least score, 0–1: the final score once there is one, else the best so far")] string? MinScore,
    [property: FromQuery(Name = "createdAfter"), Description("ISO-8601: runs created at or after this time")] string? CreatedAfter,
    [property: FromQuery(Name = "createdBefore"), Description("ISO-8601: runs created before this time")] string? CreatedBefore,
    [property: FromQuery(Name = "sort"), Description("-createdAt (default), -finalScore, -bestScore or -improvement; runs without that score come last")] string? Sort,
    [property: FromQuery(Name = "limit"), Description("Page size, 1–100 (default 20)")] string? Limit,
    [property: FromQuery(Name = "cursor"), Description("nextCursor of the previous page")] string? Cursor);

/// <summary>A run's samples page query string, bound with <c>[AsParameters]</c>.</summary>
public sealed record SampleListParameters(
    [property: FromQuery(Name = "iteration"), Description("Only this iteration's samples")] string? Iteration,
    [property: FromQuery(Name = "kind"), Description("baseline, minibatch or full: only samples of the run's iterations of this kind")] string? Kind,
    [property: FromQuery(Name = "success"), Description("true: successful samples only; false: failed ones only")] string? Success,
    [property: FromQuery(Name = "minScore"), Description("Least score, 0–1")] string? MinScore,
    [property: FromQuery(Name = "maxScore"), Description("Greatest score, 0–1")] string? MaxScore,
    [property: FromQuery(Name = "exampleId"), Description("Only this example's samples (exact match)")] string? ExampleId,
    [property: FromQuery(Name = "errorsOnly"), Description("true: only samples that carry an error")] string? ErrorsOnly,
    [property: FromQuery(Name = "limit"), Description("Page size, 1–1000 (default 100)")] string? Limit,
    [property: FromQuery(Name = "cursor"), Description("nextCursor of the previous page")] string? Cursor);
