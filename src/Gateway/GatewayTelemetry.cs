using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OptimizationRuns.Telemetry;

namespace OptimizationRuns.Gateway;

/// <summary>
/// The gateway's telemetry: ASP.NET Core server spans (continuing an incoming W3C <c>traceparent</c>),
/// Orleans client spans, metrics with a Prometheus scrape endpoint, and the trace id on every response.
/// </summary>
public static class GatewayTelemetry
{
    public const string MeterName = "OptimizationRuns.Gateway";

    /// <summary>The response header that carries the request's trace id.</summary>
    public const string TraceIdHeader = "X-Trace-Id";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Server-Sent Events streams open now.</summary>
    public static readonly UpDownCounter<long> SseSubscribers =
        Meter.CreateUpDownCounter<long>("optruns.sse.subscribers", "{stream}", "Open live-event streams");

    /// <summary>Requests answered 503 or 429 with Retry-After, by <see cref="RefusalReason"/>.</summary>
    public static readonly Counter<long> Refusals =
        Meter.CreateCounter<long>("optruns.gateway.refusals", "{response}", "Requests refused with Retry-After (503, 429), by reason");

    /// <summary>Why a request was refused: the values of the <c>reason</c> tag of <see cref="Refusals"/>.</summary>
    public static class RefusalReason
    {
        /// <summary>503: the run's buffer for the database is full.</summary>
        public const string Overloaded = "overloaded";

        /// <summary>503: the database did not answer or refused the connection.</summary>
        public const string DatabaseUnavailable = "database_unavailable";

        /// <summary>503: no silo answered in time (or none was reachable yet).</summary>
        public const string ClusterUnavailable = "cluster_unavailable";

        /// <summary>429: the caller is over its request rate or its live-stream limit.</summary>
        public const string RateLimited = "rate_limited";

        internal static readonly string[] All = [Overloaded, DatabaseUnavailable, ClusterUnavailable, RateLimited];
    }

    /// <summary>Counts one refusal; <paramref name="reason"/> is one of <see cref="RefusalReason"/>'s.</summary>
    public static void CountRefusal(string reason) => Refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        builder.AddOptimizationRunsTelemetry("optruns-gateway",
            tracing => tracing.AddAspNetCoreInstrumentation(o => o.Filter = context =>
                !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/health")),
            metrics => metrics.AddAspNetCoreInstrumentation().AddMeter(MeterName).AddPrometheusExporter());
        builder.Services.AddHostedService<ZeroSeries>();
        return builder;
    }

    // Series that usually stay at zero exist from the start, so a dashboard shows 0 rather than "no data" and a
    // rate over them is defined. Resolving the MeterProvider first makes sure it listens before the zeros are added.
    private sealed class ZeroSeries(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetService<MeterProvider>();
            SseSubscribers.Add(0);
            foreach (var reason in RefusalReason.All)
            {
                Refusals.Add(0, new KeyValuePair<string, object?>("reason", reason));
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Adds <see cref="TraceIdHeader"/> to every response: the trace the request belongs to.</summary>
    public static IApplicationBuilder UseTraceIdHeader(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var traceId = Activity.Current?.TraceId.ToHexString() ?? IncomingTraceId(context.Request);
                if (traceId is not null)
                {
                    context.Response.Headers[TraceIdHeader] = traceId;
                }

                return Task.CompletedTask;
            });
            return next(context);
        });

    // Without a tracer the request still belongs to its caller's trace: echo it.
    private static string? IncomingTraceId(HttpRequest request) =>
        ActivityContext.TryParse(request.Headers.TraceParent, null, out var context) ? context.TraceId.ToHexString() : null;
}
