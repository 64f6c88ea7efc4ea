using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Candidates;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>A run's candidates: the instruction texts and demo sets it proposed per predictor, and how each fared.</summary>
public static class CandidatesApi
{
    public static RouteGroupBuilder MapCandidatesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs/{runId:guid}/candidates").WithTags("Candidates")
            .RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/", RecordCandidatesAsync).WithName("RecordCandidates")
            .WithSummary("Record up to 1,000 of the run's candidates (instruction texts, demo sets); also after the run has ended")
            .WithDescription(
                "Idempotent per (run, predictor, kind, index): a stored candidate sent again with the same content counts as a " +
                "duplicate; with a different content the answer is 409 naming it, and nothing of the batch is written. A bad " +
                "field is a 400 naming it (candidates[3].kind), and nothing is written either. Bounds: 1,000 candidates per call, " +
                "predictor 1–200 characters, text 1–20,000 characters, demos a JSON array of at most 100 objects and 200 KB; " +
                "the body as a whole is subject to the gateway's request size limit (413).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/", GetCandidatesAsync).WithName("GetCandidates")
            .WithSummary("The run's candidates per predictor and kind, with statistics from its iterations")
            .WithDescription(
                "Every candidate recorded, and every one an iteration's params choose ({\"predictors\": {\"0\": {\"instruction\": 2, " +
                "\"demos\": 3}}}) even if never recorded (recorded: false, no text). Per candidate: timesChosen; minibatch " +
                "{n, mean, ci95} over the scored minibatch iterations that chose it, ci95 a Student's t interval of the mean; full " +
                "{n, mean} over scored baseline and full iterations; bestScore from full evaluations only. Per predictor and kind: " +
                "importance, one-way ANOVA η² = SS_between / SS_total of the scored minibatch iterations grouped by the chosen " +
                "index (null when undefined).");
        return api;
    }

    /// <summary>The caller's project's candidate query grain.</summary>
    public static ICandidateQueryGrain Candidates(this IClusterClient cluster, ClaimsPrincipal user) =>
        cluster.GetGrain<ICandidateQueryGrain>(user.ProjectId());

    public static async Task<Results<Ok<CandidateBatchResponse>, ValidationProblem>> RecordCandidatesAsync(
        Guid runId, CandidateBatchRequest request, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        // Binding checks each candidate's members; a JSON null in place of a whole candidate is the one shape it lets through.
        var nulls = Enumerable.Range(0, request.Candidates.Count).Where(i => request.Candidates[i] is null).Take(100)
            .ToDictionary(i => $"candidates[{i}]", _ => new[] { "Required: a candidate object, not null." });
        if (nulls.Count > 0)
        {
            return TypedResults.ValidationProblem(nulls);
        }

        var result = await cluster.Run(user, runId)
            .RecordCandidatesAsync(request.Candidates.Select(c => c.ToRecord()).ToList(), cancellationToken);
        return TypedResults.Ok(new CandidateBatchResponse(result.Accepted, result.Inserted, result.Duplicates));
    }

    public static async Task<Ok<RunCandidatesResponse>> GetCandidatesAsync(
        Guid runId, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken) =>
        TypedResults.Ok(RunCandidatesResponse.From(await cluster.Candidates(user).GetCandidatesAsync(runId, cancellationToken)));
}
