using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// The silo's writer of run progress: every <see cref="RunOptions.ProgressWritePeriod"/> it writes the latest progress
/// its run grains accepted without a commit, for all of them in one transaction (<see cref="ProgressStore"/>).
/// </summary>
/// <remarks>
/// One transaction per period per silo, where each run writing its own row would be one per run per period: at 1,000
/// running runs, 1,000 transactions a second became one. A grain offers its progress and answers at once; what it
/// offers stays its own until the next commit of the run carries it (RunGrain.Progress.cs), so this writer only makes it
/// durable sooner. It holds one entry per run (the latest wins), so its memory is bounded by the silo's running runs;
/// a write that fails keeps its entries for the next period.
/// </remarks>
public sealed class RunProgressWriter(ProgressStore store, IOptions<RunOptions> options, ILogger<RunProgressWriter> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<(Guid ProjectId, Guid RunId), RunProgressRow> _due = new();
    private bool _failing;

    /// <summary>Takes <paramref name="row"/> for the next write, in place of an older one of the same run.</summary>
    public void Offer(RunProgressRow row) =>
        _due.AddOrUpdate((row.ProjectId, row.RunId), static (_, offered) => offered,
            static (_, held, offered) => offered.HeartbeatAt >= held.HeartbeatAt ? offered : held, row);

    /// <summary>Writes what is due now; a failure is logged and its rows wait for the next period.</summary>
    public async Task WriteDueAsync(CancellationToken cancellationToken)
    {
        if (_due.IsEmpty)
        {
            return;
        }

        var rows = new List<RunProgressRow>(_due.Count);
        foreach (var key in _due.Keys)
        {
            if (_due.TryRemove(key, out var row))
            {
                rows.Add(row);
            }
        }

        using var activity = RunTelemetry.Source.StartActivity("run.progress_write");
        activity?.SetTag(RunTelemetry.ProgressRowsTag, rows.Count);
        try
        {
            var written = await store.WriteAsync(rows, cancellationToken);
            RunTelemetry.ProgressWrites.Add(written);
            if (_failing)
            {
                _failing = false;
                logger.LogInformation("Run progress is written again ({Runs} runs)", rows.Count);
            }
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            foreach (var row in rows)
            {
                Offer(row);
            }

            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                return;
            }

            // Once per outage, not once a period: the database's own failure is logged where it is noticed first.
            if (!_failing)
            {
                _failing = true;
                logger.LogWarning(ex, "The progress of {Runs} runs could not be written; it is kept and tried again every {Period}",
                    rows.Count, options.Value.ProgressWritePeriod);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ProgressWritePeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await WriteDueAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // A graceful stop writes what is due (the run grains' deactivation commits their own progress as well).
        await WriteDueAsync(cancellationToken);
    }
}
