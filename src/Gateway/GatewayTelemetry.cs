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

    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        builder.AddOptimizationRunsTelemetry("optruns-gateway",
            tracing => tracing.AddAspNetCoreInstrumentation(o => o.Filter = context =>
                !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/health")),
            metrics => metrics.AddAspNetCoreInstrumentation().AddMeter(MeterName).AddPrometheusExporter());
        return builder;
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
