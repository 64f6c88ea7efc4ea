using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.OpenApi;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>
/// Runs: create, read, list, change, report progress, delete. A run's own calls go to its grain; the list to the
/// project's query grain.
/// </summary>
public static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs").WithTags("Runs").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/", CreateRunAsync).WithName("CreateRun").WithSummary("Create a run")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/", ListRunsAsync).WithName("ListRuns")
            .WithSummary("The project's runs, filtered and sorted, a page at a time (pass nextCursor as cursor)")
            .WithPageLimit(QueryParameters.DefaultRunPage, QueryParameters.MaxRunPage)
            .ProducesValidationProblem();
        api.MapGet("/{runId:guid}", GetRunAsync).WithName("GetRun").WithSummary("The run with its live state")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/{runId:guid}", PatchRunAsync).WithName("UpdateRun")
            .WithSummary("Change descriptive fields and/or the status (running, completed, failed, cancelled)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{runId:guid}/progress", ReportProgressAsync).WithName("ReportProgress").WithSummary("Heartbeat and live progress")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{runId:guid}", DeleteRunAsync).WithName("DeleteRun").WithSummary("Delete the run, its iterations and samples")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>The grain of <paramref name="runId"/> as the caller's project sees it.</summary>
    public static IRunGrain Run(this IClusterClient cluster, ClaimsPrincipal user, Guid runId) =>
        cluster.GetGrain<IRunGrain>(runId, user.ProjectId().ToString());

    /// <summary>The caller's project's query grain.</summary>
    public static IRunQueryGrain Queries(this IClusterClient cluster, ClaimsPrincipal user) =>
        cluster.GetGrain<IRunQueryGrain>(user.ProjectId());

    public static async Task<Created<RunResponse>> CreateRunAsync(
        CreateRunRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        // A client's id is a key within its project: the run's id derives from both, so no project can learn
        // (or take) another project's ids.
        var runId = request.Id is { } clientKey ? RunIds.ForClientKey(user.ProjectId(), clientKey) : Guid.CreateVersion7();
        var run = await cluster.Run(user, runId).CreateAsync(request.ToCommand(), cancellationToken);
        return TypedResults.Created($"/api/optimization/runs/{run.Id}", RunResponse.From(run));
    }

    public static async Task<Ok<RunResponse>> GetRunAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var run = await cluster.Run(user, runId).GetAsync(cancellationToken) ?? throw new RunNotFoundException(runId);
        return TypedResults.Ok(RunResponse.From(run));
    }

    public static async Task<Results<Ok<ListResponse<RunResponse>>, ValidationProblem>> ListRunsAsync(
        [AsParameters] RunListParameters query, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var list = parameters.RunList(query.Status, query.OptimizerType, query.Tag, query.Config, query.Metadata, query.Q,
            query.MinScore, query.CreatedAfter, query.CreatedBefore, query.Sort, query.Limit, query.Cursor);
        if (list is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var page = await cluster.Queries(user).ListRunsAsync(list, cancellationToken);
        return TypedResults.Ok(new ListResponse<RunResponse>(
            page.Items.Select(RunResponse.From).ToList(),
            page.Next is { } next ? Cursors.Encode(list.Sort, next) : null));
    }

    public static async Task<Ok<RunResponse>> PatchRunAsync(
        Guid runId, PatchRunRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var run = await cluster.Run(user, runId).PatchAsync(request.ToPatch(), cancellationToken);
        return TypedResults.Ok(RunResponse.From(run));
    }

    public static async Task<Ok<RunResponse>> ReportProgressAsync(
        Guid runId, ProgressRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken) =>
        TypedResults.Ok(RunResponse.From(await cluster.Run(user, runId).ReportProgressAsync(request.ToProgress(), cancellationToken)));

    public static async Task<NoContent> DeleteRunAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        await cluster.Run(user, runId).DeleteAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
