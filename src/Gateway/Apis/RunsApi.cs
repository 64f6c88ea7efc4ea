using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>Runs: create, read, change, delete. Every call goes to the run's grain.</summary>
public static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs").WithTags("Runs").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/", CreateRunAsync).WithName("CreateRun").WithSummary("Create a run")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/{runId:guid}", GetRunAsync).WithName("GetRun").WithSummary("The run with its live state")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/{runId:guid}", PatchRunAsync).WithName("UpdateRun")
            .WithSummary("Change descriptive fields and/or the status (running, completed, failed, cancelled)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{runId:guid}", DeleteRunAsync).WithName("DeleteRun").WithSummary("Delete the run, its iterations and samples")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>The grain of <paramref name="runId"/> as the caller's project sees it.</summary>
    public static IRunGrain Run(this IClusterClient cluster, ClaimsPrincipal user, Guid runId) =>
        cluster.GetGrain<IRunGrain>(runId, user.ProjectId().ToString());

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

    public static async Task<Ok<RunResponse>> PatchRunAsync(
        Guid runId, PatchRunRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var run = await cluster.Run(user, runId).PatchAsync(request.ToPatch(), cancellationToken);
        return TypedResults.Ok(RunResponse.From(run));
    }

    public static async Task<NoContent> DeleteRunAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        await cluster.Run(user, runId).DeleteAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
