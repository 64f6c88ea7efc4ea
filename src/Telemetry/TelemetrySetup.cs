using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace OptimizationRuns.Telemetry;

/// <summary>
/// OpenTelemetry for a silo or a gateway: our spans and metrics, Orleans' and the runtime's, exported
/// by the standard <c>OTEL_*</c> variables (OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set) or to the
/// console with <c>Telemetry:Console=true</c>. Tracing is on when an exporter is configured or
/// <c>Telemetry:Tracing=true</c>, and off otherwise, so an unobserved process pays nothing for spans.
/// </summary>
public static class TelemetrySetup
{
    /// <summary>Our own ActivitySource and Meter name (the grains' write path).</summary>
    public const string OptimizationRunsSource = "OptimizationRuns";

    /// <summary>Orleans' span sources: its runtime's and the application grain calls'.</summary>
    public static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    public static IHostApplicationBuilder AddOptimizationRunsTelemetry(
        this IHostApplicationBuilder builder, string serviceName,
        Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        var configuration = builder.Configuration;
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var console = configuration.GetValue("Telemetry:Console", false);
        var tracingOn = configuration.GetValue<bool?>("Telemetry:Tracing") ?? (otlp || console);

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration["OTEL_SERVICE_NAME"] ?? serviceName));
        if (tracingOn)
        {
            telemetry.WithTracing(t =>
            {
                t.AddSource(OptimizationRunsSource).AddSource(OrleansSources);
                tracing?.Invoke(t);
                if (otlp)
                {
                    t.AddOtlpExporter();
                }

                if (console)
                {
                    t.AddConsoleExporter();
                }
            });
        }

        telemetry.WithMetrics(m =>
        {
            m.AddMeter(OptimizationRunsSource).AddMeter("Microsoft.Orleans").AddRuntimeInstrumentation();
            metrics?.Invoke(m);
            if (otlp)
            {
                m.AddOtlpExporter();
            }
        });
        return builder;
    }
}
