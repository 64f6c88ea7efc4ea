using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Silo;

/// <summary>
/// The silo's own series beside the write path's: <c>optruns.database.up</c> (1 while the database answers a probe
/// every <see cref="ProbePeriod"/>, 0 when it did not within <see cref="ProbeTimeout"/>), and zeros for the series
/// that usually stay at zero (refusals, stalled runs), so dashboards show 0 rather than "no data".
/// </summary>
public sealed class SiloMetrics(HealthStore health, IServiceProvider services, ILogger<SiloMetrics> logger) : BackgroundService
{
    /// <summary>How often the database is probed.</summary>
    public static readonly TimeSpan ProbePeriod = TimeSpan.FromSeconds(5);

    /// <summary>How long a probe may take before the database counts as down (as readiness allows it).</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    // -1 until the first probe ends, so a silo that has not probed yet reports nothing rather than a guess. One gauge
    // per process (silos hosted together in a test share it).
    private static int _databaseUp = -1;

    private static readonly ObservableGauge<int> DatabaseUp = RunTelemetry.Meter.CreateObservableGauge(
        "optruns.database.up", ObserveDatabaseUp, unit: null, "1 when this silo's last probe of PostgreSQL succeeded, 0 when it failed");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Resolving the provider first makes sure it listens before the zeros are added.
        _ = services.GetService<MeterProvider>();
        _ = DatabaseUp; // created with the type: published to the provider from now on
        RunTelemetry.OverloadRefusals.Add(0);
        foreach (var status in new[] { RunStatus.Pending, RunStatus.Running, RunStatus.Stalled })
        {
            RunTelemetry.RunsByStatus.Add(0, new KeyValuePair<string, object?>(RunTelemetry.StatusTag, status.ToName()));
        }

        RunTelemetry.StatusChanges.Add(0, new KeyValuePair<string, object?>(RunTelemetry.StatusTag, RunStatus.Stalled.ToName()));

        using var timer = new PeriodicTimer(ProbePeriod);
        do
        {
            Volatile.Write(ref _databaseUp, await ProbeAsync(stoppingToken) ? 1 : 0);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static IEnumerable<Measurement<int>> ObserveDatabaseUp()
    {
        var up = Volatile.Read(ref _databaseUp);
        return up < 0 ? [] : [new Measurement<int>(up)];
    }

    private async Task<bool> ProbeAsync(CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await health.PingAsync(timeout.Token);
            return true;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // Whatever the cause (refused, timed out, misconfigured), the silo cannot use the database now.
            logger.LogDebug(ex, "Database probe failed");
            return false;
        }
    }
}
