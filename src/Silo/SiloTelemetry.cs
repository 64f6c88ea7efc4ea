using Npgsql;
using OpenTelemetry.Metrics;
using OptimizationRuns.Telemetry;

namespace OptimizationRuns.Silo;

/// <summary>The silo's telemetry: our spans and Orleans', Npgsql's command spans, and metrics.</summary>
public static class SiloTelemetry
{
    /// <summary>
    /// Adds telemetry; with <c>Telemetry:PrometheusPort</c> set, metrics are also served for scraping at
    /// <c>http://{Telemetry:PrometheusHost}:{port}/metrics</c>: host <c>localhost</c> unless set; in a container its own
    /// host name (the listener binds to that name's address and answers requests addressed to it, as Prometheus in
    /// another container sends them).
    /// </summary>
    public static IHostApplicationBuilder AddSiloTelemetry(this IHostApplicationBuilder builder)
    {
        var prometheusPort = builder.Configuration.GetValue<int?>("Telemetry:PrometheusPort");
        var prometheusHost = builder.Configuration["Telemetry:PrometheusHost"] ?? "localhost";
        builder.Services.AddHostedService<SiloMetrics>();
        return builder.AddOptimizationRunsTelemetry("optruns-silo",
            tracing => tracing.AddNpgsql(),
            metrics =>
            {
                metrics.AddNpgsqlInstrumentation();
                if (prometheusPort is { } port)
                {
                    metrics.AddPrometheusHttpListener(o => (o.Host, o.Port) = (prometheusHost, port));
                }
            });
    }
}
