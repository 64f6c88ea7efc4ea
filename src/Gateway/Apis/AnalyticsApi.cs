using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.OpenApi;
using OptimizationRuns.Grains.Analytics;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>A run's summary, the project's leaderboard, and its analytics (a materialized view, refreshed on a schedule and on demand).</summary>
public static class AnalyticsApi
{
    public static RouteGroupBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization").WithTags("Analytics").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/runs/{runId:guid}/summary", GetRunSummaryAsync).WithName("GetRunSummary")
            .WithSummary("The run's summary: scores, iterations per kind, sample counts and success rate, usage, timing")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/leaderboard", GetLeaderboardAsync).WithName("GetLeaderboard")
            .WithSummary("The project's top completed runs by final score")
            .WithPageLimit(QueryParameters.DefaultLeaderboard, QueryParameters.MaxLeaderboard)
            .ProducesValidationProblem();
        api.MapGet("/analytics", GetAnalyticsAsync).WithName("GetAnalytics")
            .WithSummary("The project's runs per optimizer, as of the last refresh of the analytics view");
        api.MapPost("/analytics/refresh", RefreshAnalyticsAsync).WithName("RefreshAnalytics")
            .WithSummary("Refresh the analytics view now, then answer the project's analytics");
        return api;
    }

    public static async Task<Ok<RunSummaryResponse>> GetRunSummaryAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var json = await cluster.Queries(user).GetSummaryJsonAsync(runId, cancellationToken);
        return TypedResults.Ok(RunSummaryResponse.Parse(json));
    }

    public static async Task<Results<Ok<ListResponse<RunResponse>>, ValidationProblem>> GetLeaderboardAsync(
        [Description("Only runs of this optimizer")] string? optimizerType,
        [Description("How many, 1–100 (default 10)")] string? limit,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var optimizer = parameters.Name<OptimizerType>(optimizerType, "optimizerType");
        var count = parameters.Limit(limit, QueryParameters.DefaultLeaderboard, QueryParameters.MaxLeaderboard);
        if (!parameters.Valid)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var runs = await cluster.Queries(user).GetLeaderboardAsync(optimizer, count, cancellationToken);
        return TypedResults.Ok(new ListResponse<RunResponse>(runs.Select(RunResponse.From).ToList(), null));
    }

    public static async Task<Ok<AnalyticsResponse>> GetAnalyticsAsync(
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken) =>
        TypedResults.Ok(OptimizerAnalyticsResponse.ListFrom(await cluster.Queries(user).GetAnalyticsAsync(cancellationToken)));

    public static async Task<Ok<AnalyticsResponse>> RefreshAnalyticsAsync(
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        await cluster.GetGrain<IAnalyticsRefreshGrain>(0).RefreshAsync(cancellationToken);
        return TypedResults.Ok(OptimizerAnalyticsResponse.ListFrom(await cluster.Queries(user).GetAnalyticsAsync(cancellationToken)));
    }
}
