using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.OpenApi;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>Pages of committed samples: a run's, filtered, or those of one trace.</summary>
public static class SamplesApi
{
    public static RouteGroupBuilder MapSamplesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization").WithTags("Samples").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesValidationProblem();
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

    public static async Task<Results<Ok<ListResponse<SampleResponse>>, ValidationProblem>> ListSamplesAsync(
        Guid runId,
        [Description("Only this iteration's samples")] string? iteration,
        [Description("true: successful samples only; false: failed ones only")] string? success,
        [Description("Least score, 0–1")] string? minScore,
        [Description("Greatest score, 0–1")] string? maxScore,
        [Description("Page size, 1–1000 (default 100)")] string? limit,
        [Description("nextCursor of the previous page")] string? cursor,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.Samples(runId, iteration, success, minScore, maxScore, limit, cursor);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var page = await cluster.Queries(user).GetSamplesAsync(query, cancellationToken);
        return TypedResults.Ok(ToList(page, Cursors.Encode));
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
