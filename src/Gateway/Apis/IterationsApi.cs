using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>A run's iterations (trials): recorded by the optimizer's workers; read as committed, all in order or the best one.</summary>
public static class IterationsApi
{
    public static RouteGroupBuilder MapIterationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs/{runId:guid}/iterations").WithTags("Iterations")
            .RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/", RecordIterationAsync).WithName("RecordIteration").WithSummary("Record one iteration (trial)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/", ListIterationsAsync).WithName("ListIterations")
            .WithSummary("The run's iterations in order; params= keeps those whose params contain a JSON object")
            .ProducesValidationProblem();
        api.MapGet("/best", GetBestIterationAsync).WithName("GetBestIteration")
            .WithSummary("The run's best iteration (baseline and full evaluations only); 404 while there is none");
        return api;
    }

    public static async Task<Results<Created<IterationRecorded>, Ok<IterationRecorded>>> RecordIterationAsync(
        Guid runId, IterationRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var outcome = await cluster.Run(user, runId).RecordIterationAsync(request.ToRecord(), cancellationToken);
        var body = new IterationRecorded(request.Iteration, outcome);
        return outcome == IterationOutcome.Inserted
            ? TypedResults.Created($"/api/optimization/runs/{runId}/iterations/{body.Iteration}", body)
            : TypedResults.Ok(body);
    }

    public static async Task<Results<Ok<ListResponse<IterationResponse>>, ValidationProblem>> ListIterationsAsync(
        Guid runId,
        [FromQuery(Name = "params"), Description(
            "A JSON object the trial's params contain, e.g. {\"predictors\":{\"0\":{\"instruction\":2}}}: the trials that chose instruction 2 for predictor 0")]
        string? @params,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var paramsJson = parameters.IterationParams(@params);
        if (!parameters.Valid)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var iterations = await cluster.Queries(user).GetIterationsAsync(runId, paramsJson, cancellationToken);
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
