using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.OpenApi;
using OptimizationRuns.Grains.Analysis;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>A run analysed: its trajectory, its examples' difficulty, and its rows exported as a file.</summary>
public static class RunAnalysisApi
{
    public static RouteGroupBuilder MapRunAnalysisApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs/{runId:guid}").WithTags("Analysis").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/trajectory", GetTrajectoryAsync).WithName("GetTrajectory")
            .WithSummary("Per iteration in order: score, best so far (baseline and full evaluations only), best minibatch so far, cumulative samples, cost and tokens");
        api.MapGet("/examples", ListExamplesAsync).WithName("ListExamples")
            .WithSummary("The run's examples over all its iterations, hardest or flakiest first, a page at a time (pass nextCursor as cursor)")
            .WithPageLimit(RunAnalysisParameters.DefaultExamplePage, RunAnalysisParameters.MaxExamplePage)
            .ProducesValidationProblem();
        api.MapGet("/export", ExportAsync).WithName("ExportRun")
            .WithSummary("The run's samples, iterations or candidates as a file (JSON Lines or CSV), streamed as it is read")
            .WithDescription(
                "One row per sample (what=samples, the default), per iteration (what=iterations) or per candidate (what=candidates), " +
                "with the fields of the REST answers: a samples page's, the iterations list's; a candidate's row holds predictor, " +
                "kind and the fields of a candidate in GET …/candidates, its statistics flattened (minibatchN, minibatchMean, " +
                "minibatchCi95Low, minibatchCi95High, fullN, fullMean) and demos as JSON; the importance of a predictor's choice " +
                "is not a row's (GET …/candidates answers it). Candidates come in that answer's order: predictors (numeric ids in " +
                "numeric order, then names), instructions before demo sets, then by index. CSV: a header row of the field names, " +
                "RFC 4180 quoting, JSON values as quoted JSON text, null as an empty cell. The file is named in Content-Disposition " +
                "(run-{runId}-{what}.{format}); a failure after the first rows aborts the connection rather than end the file early.")
            .ProducesValidationProblem();
        return api;
    }

    /// <summary>The caller's project's analysis grain.</summary>
    public static IRunAnalysisGrain Analysis(this IClusterClient cluster, ClaimsPrincipal user) =>
        cluster.GetGrain<IRunAnalysisGrain>(user.ProjectId());

    public static async Task<Ok<ListResponse<TrajectoryPointResponse>>> GetTrajectoryAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var points = await cluster.Analysis(user).GetTrajectoryAsync(runId, cancellationToken);
        return TypedResults.Ok(new ListResponse<TrajectoryPointResponse>(points.Select(TrajectoryPointResponse.From).ToList(), null));
    }

    public static async Task<Results<Ok<ListResponse<ExampleResponse>>, ValidationProblem>> ListExamplesAsync(
        Guid runId,
        [Description("hardest (default: lowest mean score, then most failures) or flakiest (largest standard deviation of the scores, then most evaluations)")] string? sort,
        [Description("Only evaluations in iterations of this kind count: baseline, minibatch or full")] string? kind,
        [Description("Only examples with at least this many (counted) evaluations (default 1)")] string? minEvaluations,
        [Description("Page size, 1–500 (default 50)")] string? limit,
        [Description("nextCursor of the previous page")] string? cursor,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.Examples(runId, sort, kind, minEvaluations, limit, cursor);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var page = await cluster.Analysis(user).GetExamplesAsync(query, cancellationToken);
        return TypedResults.Ok(new ListResponse<ExampleResponse>(
            page.Items.Select(ExampleResponse.From).ToList(),
            page.Next is { } next ? ExampleCursors.Encode(runId, query.Sort, next) : null));
    }

    public static async Task<Results<ExportStream, ValidationProblem>> ExportAsync(
        Guid runId,
        [Description("jsonl (default: one JSON object a line, as the REST API answers it) or csv (a header row of the same field names)")] string? format,
        [Description("samples (default), iterations or candidates")] string? what,
        ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var query = parameters.Export(what, format);
        if (query is null)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        var export = cluster.GetGrain<IRunExportGrain>(runId, user.ProjectId().ToString());
        var fileName = $"run-{runId}-{query.What.ToString().ToLowerInvariant()}.{(query.Format == ExportFormat.Csv ? "csv" : "jsonl")}";
        // A page is a batch of rows already: one page per call keeps each message, and the memory it needs, to a page.
        return query.What switch
        {
            ExportTable.Iterations => await ExportStream.OpenAsync(export.ExportIterationsAsync(cancellationToken).WithBatchSize(1),
                options => ExportColumns.IterationWriter(query.Format, options), query.Format, fileName, cancellationToken),
            ExportTable.Candidates => await ExportStream.OpenAsync(export.ExportCandidatesAsync(cancellationToken).WithBatchSize(1),
                options => ExportColumns.CandidateWriter(query.Format, options), query.Format, fileName, cancellationToken),
            _ => await ExportStream.OpenAsync(export.ExportSamplesAsync(cancellationToken).WithBatchSize(1),
                options => ExportColumns.SampleWriter(query.Format, options), query.Format, fileName, cancellationToken),
        };
    }
}
