using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.OpenApi;
using OptimizationRuns.Grains;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>Samples: batches recorded by the optimizer's workers; pages of committed ones, a run's (filtered) or a trace's.</summary>
public static class SamplesApi
{
    public static RouteGroupBuilder MapSamplesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization").WithTags("Samples").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesValidationProblem();
        api.MapPost("/runs/{runId:guid}/samples", RecordSamplesAsync).WithName("RecordSamples")
            .WithSummary($"Record a batch of at most {Limits.MaxSamplesPerBatch:N0} samples; retried samples count as duplicates")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/runs/{runId:guid}/samples", ListSamplesAsync).WithName("ListSamples")
            .WithSummary("A page of the run's samples in (iteration, sampleIndex) order (pass nextCursor as cursor)")
            .WithPageLimit(QueryParameters.DefaultSamplePage, QueryParameters.MaxSamplePage)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/traces/{traceId}/samples", ListTraceSamplesAsync).WithName("ListTraceSamples")
            .WithSummary("The project's samples that carry a trace id, a page at a time (trace inspection); 404 when none does")
            .WithPageLimit(QueryParameters.DefaultSamplePage, QueryParameters.MaxSamplePage)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
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

    public static async Task<Results<Ok<ListResponse<SampleResponse>>, ValidationProblem>> ListSamplesAsync(
        Guid runId, [AsParameters] SampleListParameters page, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.Samples(runId, page.Iteration, page.Kind, page.Success, page.MinScore, page.MaxScore, page.ExampleId,
            page.ErrorsOnly, page.Limit, page.Cursor);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var samples = await cluster.Queries(user).GetSamplesAsync(query, cancellationToken);
        return TypedResults.Ok(ToList(samples, Cursors.Encode));
    }

    public static async Task<Results<Ok<ListResponse<SampleResponse>>, ValidationProblem, ProblemHttpResult>> ListTraceSamplesAsync(
        [Description("W3C trace id: 32 hexadecimal digits")] string traceId,
        [Description("Page size, 1–1000 (default 100)")] string? limit,
        [Description("nextCursor of the previous page")] string? cursor,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.TraceSamples(traceId, limit, cursor);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var page = await cluster.Queries(user).GetTraceSamplesAsync(query, cancellationToken);
        if (page.Items.Count == 0 && query.After is null)
        {
            // Like a run, a trace the project has no sample of does not exist for the caller.
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found",
                detail: $"No sample of this project carries trace {query.TraceId}.");
        }

        return TypedResults.Ok(ToList(page, Cursors.EncodeTrace));
    }

    private static ListResponse<SampleResponse> ToList(SamplePage page, Func<SamplePosition, string> cursor) =>
        new(page.Items.Select(SampleResponse.From).ToList(), page.Next is { } next ? cursor(next) : null);
}
