using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>The optimizer workers' writes: iterations, sample batches and progress. Each answers after commit.</summary>
public static class IngestApi
{
    public static RouteGroupBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs/{runId:guid}").WithTags("Ingest").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/iterations", RecordIterationAsync).WithName("RecordIteration").WithSummary("Record one iteration (trial)");
        api.MapPost("/samples", RecordSamplesAsync).WithName("RecordSamples")
            .WithSummary("Record a batch of at most 5,000 samples; retried samples count as duplicates")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/progress", ReportProgressAsync).WithName("ReportProgress").WithSummary("Heartbeat and live progress");
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

    public static async Task<Results<Ok<SampleBatchResponse>, ValidationProblem>> RecordSamplesAsync(
        Guid runId, SampleBatchRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        // Binding checks each sample's members; a JSON null in place of a whole sample is the one shape it lets through.
        var nulls = Enumerable.Range(0, request.Samples.Count).Where(i => request.Samples[i] is null).Take(100)
            .ToDictionary(i => $"samples[{i}]", _ => new[] { "Required: a sample object, not null." });
        if (nulls.Count > 0)
        {
            return TypedResults.ValidationProblem(nulls);
        }

        var result = await cluster.Run(user, runId).RecordSamplesAsync(request.Samples.Select(s => s.ToRecord()).ToList(), cancellationToken);
        return TypedResults.Ok(new SampleBatchResponse(result.Accepted, result.Inserted, result.Duplicates));
    }

    public static async Task<Ok<RunResponse>> ReportProgressAsync(
        Guid runId, ProgressRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken) =>
        TypedResults.Ok(RunResponse.From(await cluster.Run(user, runId).ReportProgressAsync(request.ToProgress(), cancellationToken)));
}
