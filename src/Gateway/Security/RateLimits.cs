using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using OptimizationRuns.Gateway.Errors;
using OptimizationRuns.Grains.Projects;

namespace OptimizationRuns.Gateway.Security;

/// <summary>
/// Per-caller limits, by API key (callers without one by address): a token bucket over all requests
/// (<c>Security:RequestsPerSecond</c>, <c>Security:RequestBurst</c>) and a cap on concurrent live-event streams
/// (<c>Security:EventStreamsPerKey</c>). The defaults are far above what a worker or a dashboard sends (the ingest
/// benchmarks stay under them); they stop a runaway loop or a leaked key from taking the cluster for itself.
/// Refusals are 429 with Retry-After and problem details.
/// </summary>
public static class RateLimits
{
    public const int DefaultRequestsPerSecond = 2_000;
    public const int DefaultRequestBurst = 4_000;
    public const int DefaultEventStreamsPerKey = 64;

    // Retry-After for a refused stream: one ends when its watcher leaves, which nothing predicts.
    private static readonly TimeSpan StreamRetryAfter = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var perSecond = configuration.GetValue("Security:RequestsPerSecond", DefaultRequestsPerSecond);
        var burst = configuration.GetValue("Security:RequestBurst", DefaultRequestBurst);
        var streams = configuration.GetValue("Security:EventStreamsPerKey", DefaultEventStreamsPerKey);
        var requests = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetTokenBucketLimiter(Caller(context),
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                // Refilled ten times a second, so a burst's cost comes back smoothly.
                TokensPerPeriod = Math.Max(1, perSecond / 10),
                ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        var eventStreams = PartitionedRateLimiter.Create<HttpContext, string>(context => IsEventStream(context.Request)
            ? RateLimitPartition.GetConcurrencyLimiter(Caller(context), _ => new ConcurrencyLimiterOptions { PermitLimit = streams, QueueLimit = 0 })
            : RateLimitPartition.GetNoLimiter(""));
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.CreateChained(requests, eventStreams);
            o.OnRejected = async (rejected, _) =>
            {
                var context = rejected.HttpContext;
                GatewayTelemetry.CountRefusal(GatewayTelemetry.RefusalReason.RateLimited);
                var stream = IsEventStream(context.Request);
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : stream ? StreamRetryAfter : TimeSpan.FromSeconds(1);
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                await Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests", stream
                    ? $"This key already watches {streams} live event streams; close one first."
                    : $"This key sent more than {perSecond:N0} requests per second (bursts up to {burst:N0}); retry after the pause.");
            };
        });
        return services;
    }

    // The key's hash, never the key, is what the limiter keeps.
    private static string Caller(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > "Bearer ".Length
            ? "key:" + Convert.ToHexString(ApiKeys.Hash(header["Bearer ".Length..].Trim()))
            : "address:" + context.Connection.RemoteIpAddress;
    }

    private static bool IsEventStream(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Path.Value?.EndsWith("/events", StringComparison.Ordinal) == true;
}
