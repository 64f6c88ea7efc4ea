using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>The project's run list: filters, sort orders and keyset pages, from the project's query grain.</summary>
public static class RunListApi
{
    public static RouteGroupBuilder MapRunListApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs").WithTags("Runs").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/", ListRunsAsync).WithName("ListRuns")
            .WithSummary("The project's runs, filtered and sorted, a page at a time (pass nextCursor as cursor)")
            .ProducesValidationProblem();
        return api;
    }

    /// <summary>The caller's project's query grain.</summary>
    public static IRunQueryGrain Queries(this IClusterClient cluster, ClaimsPrincipal user) =>
        cluster.GetGrain<IRunQueryGrain>(user.ProjectId());

    public static async Task<Results<Ok<ListResponse<RunResponse>>, ValidationProblem>> ListRunsAsync(
        [Description("pending, running, stalled, completed, failed or cancelled")] string? status,
        [Description("miprov2, bootstrap_fewshot, bootstrap_fewshot_random_search, copro, gepa, simba or custom")] string? optimizerType,
        [FromQuery(Name = "tag"), Description("Repeatable: the run carries every tag given")] string[]? tag,
        [Description("A JSON object the run's config contains, e.g. {\"model\":\"gpt-4\"}")] string? config,
        [Description("A JSON object the run's metadata contains, e.g. {\"git_sha\":\"c4ca423\"}")] string? metadata,
        [Description("A case-insensitive substring of the run name")] string? q,
        [Description("The least score, 0–1: the final score once there is one, else the best so far")] string? minScore,
        [Description("ISO-8601: runs created at or after this time")] string? createdAfter,
        [Description("ISO-8601: runs created before this time")] string? createdBefore,
        [Description("-createdAt (default), -finalScore, -bestScore or -improvement; runs without that score come last")] string? sort,
        [Description("Page size, 1–100 (default 20)")] string? limit,
        [Description("nextCursor of the previous page")] string? cursor,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.RunList(status, optimizerType, tag, config, metadata, q, minScore, createdAfter, createdBefore, sort, limit, cursor);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var page = await cluster.Queries(user).ListRunsAsync(query, cancellationToken);
        return TypedResults.Ok(new ListResponse<RunResponse>(
            page.Items.Select(RunResponse.From).ToList(),
            page.Next is { } next ? Cursors.Encode(query.Sort, next) : null));
    }
}
