using OptimizationRuns.Gateway.Apis;
using OptimizationRuns.Gateway.Errors;

namespace OptimizationRuns.Gateway.Cluster;

/// <summary>
/// Answers 503 with Retry-After while the gateway has never reached a silo (it listens from the start, and its
/// Orleans client keeps trying the silos in the background). Until the first silo answers, the client knows no grain
/// type, and a grain call would fail as a programming error rather than as the outage it is. <c>/health/live</c>
/// answers as ever; <c>/health/ready</c> says no silo is reachable.
/// </summary>
public static class ClusterAvailability
{
    public static IApplicationBuilder UseClusterAvailability(this IApplicationBuilder app)
    {
        var manifest = app.ApplicationServices.GetService<IClusterManifestProvider>();
        // Once a silo has answered, the client keeps its grain types: later outages are answered by the calls themselves.
        var reached = manifest is null;
        return app.Use(async (context, next) =>
        {
            reached = reached || manifest!.Current.AllGrainManifests.Any(m => m.Grains.Count > 0);
            if (reached || context.Request.Path.StartsWithSegments("/health/live"))
            {
                await next(context);
                return;
            }

            context.Response.Headers.RetryAfter = "1";
            const string detail = "No silo is reachable yet; retry.";
            if (context.Request.Path.StartsWithSegments("/health/ready"))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsJsonAsync(new ReadinessResponse("unavailable", false, false, null, detail));
                return;
            }

            GatewayTelemetry.CountRefusal(GatewayTelemetry.RefusalReason.ClusterUnavailable);
            await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Unavailable", detail);
        });
    }
}
