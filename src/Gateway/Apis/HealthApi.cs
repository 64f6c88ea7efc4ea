using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Grains.Health;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>Liveness and readiness probes.</summary>
public static class HealthApi
{
    /// <summary>Maps <c>GET /health/live</c> and <c>GET /health/ready</c>.</summary>
    public static RouteGroupBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        api.MapGet("/live", () => TypedResults.Ok(new LivenessResponse("live")))
            .WithName("GetLiveness").WithSummary("The gateway process is up");
        api.MapGet("/ready", GetReadinessAsync)
            .WithName("GetReadiness").WithSummary("A silo and the database are reachable");
        return api;
    }

    /// <summary>Ready when a silo answers and that silo reached PostgreSQL.</summary>
    public static async Task<Results<Ok<ReadinessResponse>, JsonHttpResult<ReadinessResponse>>> GetReadinessAsync(
        IClusterClient cluster, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var report = await cluster.GetGrain<IHealthGrain>(0).CheckAsync(timeout.Token);
            var response = new ReadinessResponse(report.DatabaseReachable ? "ready" : "unavailable", true,
                report.DatabaseReachable, report.Silo, report.Error);
            return report.DatabaseReachable
                ? TypedResults.Ok(response)
                : TypedResults.Json(response, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            loggers.CreateLogger(typeof(HealthApi)).LogWarning(ex, "Readiness: no silo answered");
            return TypedResults.Json(new ReadinessResponse("unavailable", false, false, null, ex.Message),
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

/// <summary>The answer of <c>GET /health/live</c>.</summary>
public sealed record LivenessResponse(string Status);

/// <summary>The answer of <c>GET /health/ready</c>.</summary>
public sealed record ReadinessResponse(string Status, bool SiloReachable, bool DatabaseReachable, string? Silo, string? Error);
