using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Health;

/// <summary>Answers readiness probes from whichever silo is local to the caller's gateway.</summary>
[StatelessWorker]
public sealed class HealthGrain(HealthStore store, ILocalSiloDetails silo, ILogger<HealthGrain> logger) : Grain, IHealthGrain
{
    /// <summary>
    /// How long the database may take to answer the probe. Shorter than the gateway's own wait for this grain (5 s),
    /// so a database that hangs is reported as the database, not as a silo that did not answer.
    /// </summary>
    public static readonly TimeSpan DatabaseTimeout = TimeSpan.FromSeconds(3);

    /// <inheritdoc />
    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DatabaseTimeout);
        try
        {
            await store.PingAsync(timeout.Token);
            return new HealthReport(silo.SiloAddress.ToString(), true, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (Exception ex) when (DatabaseFailures.IsDatabaseFailure(ex) || TimedOut(ex))
        {
            var reason = TimedOut(ex) ? $"no answer within {DatabaseTimeout.TotalSeconds:0} s" : ex.Message;
            logger.LogWarning(ex, "Database readiness check failed");
            return new HealthReport(silo.SiloAddress.ToString(), false, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                $"database unavailable: {reason}");
        }

        bool TimedOut(Exception ex) => ex is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
    }
}
