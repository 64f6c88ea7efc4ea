using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.OpenApi;
using OptimizationRuns.Grains.Comparisons;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>
/// Per-example comparison of two iterations, of two runs or of one run's two trials: the summary with its statistics,
/// and the pairs a page at a time. Both runs must be the caller's project's (else 404).
/// </summary>
public static class CompareApi
{
    private const string IterationDefault =
        "Default: the run's best full evaluation (highest score, the earlier on a tie), else its baseline; 400 when it has neither";

    public static RouteGroupBuilder MapCompareApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/compare").WithTags("Compare").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/", CompareAsync).WithName("CompareRuns")
            .WithSummary("Compare iteration A with iteration B example by example: buckets, mean delta with a 95 % paired-t interval, McNemar's exact p");
        api.MapGet("/examples", ListComparedExamplesAsync).WithName("ListComparedExamples")
            .WithSummary("A page of the compared examples in example-key order, optionally of one bucket (pass nextCursor as cursor)")
            .WithPageLimit(CompareParameters.DefaultPage, CompareParameters.MaxPage);
        return api;
    }

    /// <summary>The caller's project's comparison grain.</summary>
    public static IRunComparisonGrain Comparisons(this IClusterClient cluster, ClaimsPrincipal user) =>
        cluster.GetGrain<IRunComparisonGrain>(user.ProjectId());

    public static async Task<Results<Ok<CompareResponse>, ValidationProblem>> CompareAsync(
        [Description("Run id of side A")] string? a,
        [Description("Run id of side B (may be a's, with different iterations)")] string? b,
        [Description($"A's iteration. {IterationDefault}")] string? aIteration,
        [Description($"B's iteration. {IterationDefault}")] string? bIteration,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.Comparison(a, b, aIteration, bIteration);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        return TypedResults.Ok(CompareResponse.From(await cluster.Comparisons(user).CompareAsync(query, cancellationToken)));
    }

    public static async Task<Results<Ok<ComparePageResponse>, ValidationProblem>> ListComparedExamplesAsync(
        [Description("Run id of side A")] string? a,
        [Description("Run id of side B (may be a's, with different iterations)")] string? b,
        [Description($"A's iteration. {IterationDefault}")] string? aIteration,
        [Description($"B's iteration. {IterationDefault}")] string? bIteration,
        [Description("improved, regressed, unchanged, unscored, onlyA or onlyB; every pair when omitted")] string? bucket,
        [Description("Page size, 1–500 (default 50)")] string? limit,
        [Description("nextCursor of the previous page")] string? cursor,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.ComparisonExamples(a, b, aIteration, bIteration, bucket, limit, cursor);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var page = await cluster.Comparisons(user).GetExamplesAsync(query, cancellationToken);
        return TypedResults.Ok(new ComparePageResponse(
            ComparedIterationResponse.From(page.A), ComparedIterationResponse.From(page.B), query.Bucket?.ToName(),
            page.Items.Select(ExamplePairResponse.From).ToList(),
            page.NextKey is { } key ? CompareCursors.Encode(page.A, page.B, query.Bucket, key) : null));
    }
}
