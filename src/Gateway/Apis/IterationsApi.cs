using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>A run's iterations (trials) as committed: all in order, or the best one.</summary>
public static class IterationsApi
{
    public static RouteGroupBuilder MapIterationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs/{runId:guid}/iterations").WithTags("Iterations")
            .RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/", ListIterationsAsync).WithName("ListIterations").WithSummary("The run's iterations in order");
        api.MapGet("/best", GetBestIterationAsync).WithName("GetBestIteration")
            .WithSummary("The run's best iteration (baseline and full evaluations only); 404 while there is none");
        return api;
    }

    public static async Task<Ok<ListResponse<IterationResponse>>> ListIterationsAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var iterations = await cluster.Queries(user).GetIterationsAsync(runId, cancellationToken);
        return TypedResults.Ok(new ListResponse<IterationResponse>(iterations.Select(IterationResponse.From).ToList(), null));
    }

    public static async Task<Results<Ok<IterationResponse>, ProblemHttpResult>> GetBestIterationAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var best = await cluster.Queries(user).GetBestIterationAsync(runId, cancellationToken);
        return best is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found",
                detail: $"Run {runId} has no best iteration yet: only a scored baseline or full evaluation can be best.")
            : TypedResults.Ok(IterationResponse.From(best));
    }
}
