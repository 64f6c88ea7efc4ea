using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Grains.Maintenance;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>A project's retention policy (admin key): finished runs older than <c>retentionDays</c> are exported, then deleted.</summary>
public static class RetentionApi
{
    /// <summary>The longest retention accepted, 100 years; no limit at all is <c>null</c>.</summary>
    public const int MaxRetentionDays = 36500;

    /// <summary>Maps <c>GET</c>/<c>PUT /api/projects/{projectId}/retention</c> onto the admin-only projects group.</summary>
    public static RouteGroupBuilder MapRetentionApi(this RouteGroupBuilder projects)
    {
        projects.MapGet("/{projectId:guid}/retention", GetRetentionAsync).WithName("GetRetention")
            .WithSummary("The project's retention policy").ProducesProblem(StatusCodes.Status404NotFound);
        projects.MapPut("/{projectId:guid}/retention", SetRetentionAsync).WithName("SetRetention")
            .WithSummary("Set the project's retention policy; null keeps runs forever")
            .WithDescription(
                "Finished runs (completed, failed, cancelled) whose end is more than retentionDays ago are exported by the silo's " +
                "retention pass to its Retention:ExportDirectory (run.json, iterations.jsonl and samples.jsonl, the export's " +
                "JSONL format) and then deleted, a bounded batch per pass. Running runs are never purged.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return projects;
    }

    public static async Task<Ok<RetentionResponse>> GetRetentionAsync(Guid projectId, IClusterClient cluster, CancellationToken cancellationToken) =>
        TypedResults.Ok(new RetentionResponse(projectId,
            await cluster.GetGrain<IRetentionGrain>(0).GetRetentionDaysAsync(projectId, cancellationToken)));

    public static async Task<Results<Ok<RetentionResponse>, ValidationProblem>> SetRetentionAsync(
        Guid projectId, RetentionRequest request, IClusterClient cluster, CancellationToken cancellationToken)
    {
        if (request.RetentionDays is < 1 or > MaxRetentionDays)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["retentionDays"] = [$"A whole number of days from 1 to {MaxRetentionDays}, or null for no limit."],
            });
        }

        await cluster.GetGrain<IRetentionGrain>(0).SetRetentionDaysAsync(projectId, request.RetentionDays, cancellationToken);
        return TypedResults.Ok(new RetentionResponse(projectId, request.RetentionDays));
    }
}

/// <summary>Set a project's retention.</summary>
public sealed record RetentionRequest
{
    /// <summary>Days after a run finished before it is exported and deleted, 1–36,500; null keeps runs forever.</summary>
    public int? RetentionDays { get; init; }
}

/// <summary>A project's retention policy.</summary>
public sealed record RetentionResponse(Guid ProjectId, int? RetentionDays);
