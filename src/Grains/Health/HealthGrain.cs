using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Health;

/// <summary>Answers readiness probes from whichever silo is local to the caller's gateway.</summary>
[StatelessWorker]
public sealed class HealthGrain(HealthStore store, ILocalSiloDetails silo, ILogger<HealthGrain> logger) : Grain, IHealthGrain
{
    /// <inheritdoc />
    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await store.PingAsync(cancellationToken);
            return new HealthReport(silo.SiloAddress.ToString(), true, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException)
        {
            logger.LogWarning(ex, "Database readiness check failed");
            return new HealthReport(silo.SiloAddress.ToString(), false, Stopwatch.GetElapsedTime(started).TotalMilliseconds, ex.Message);
        }
    }
}
