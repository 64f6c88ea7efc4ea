using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using OptimizationRuns.Grains.Analytics;
using OptimizationRuns.Grains.Data;

namespace OptimizationRuns.Grains.Runs;

// The live side: events for watchers, stall detection, and checkpoints of the heartbeat.
public sealed partial class RunGrain
{
    private const string StallReminder = "stall-watch";
    private IGrainTimer? _stallTimer;
    private IGrainTimer? _checkpointTimer;
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    // The newest sign of life (a heartbeat or write). Every commit writes it into the run row; a checkpoint into grain
    // storage only when the row falls behind (a run that sends heartbeats and nothing else).
    private DateTimeOffset? _heartbeatAt;

    /// <inheritdoc />
    public async IAsyncEnumerable<RunEvent> WatchAsync(long afterEventId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        RequireRun();
        var last = afterEventId;
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var runEvent in _events.After(last))
            {
                yield return runEvent;
                last = runEvent.Id;
            }

            if (_run is null || (_run.Status.IsEnded() && _queue.Count == 0 && _committing is null && last >= _events.LastId))
            {
                yield break;
            }

            await _events.WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        }
    }

    /// <summary>The reminder keeps watching for stalls while the run is not active in memory.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == StallReminder)
        {
            await CheckStallAsync();
        }
    }

    // What a commit changed, as events: its iterations, a new best score, a new status.
    private void PublishCommitted(RunSnapshot before, RunSnapshot after, IngestBatch batch)
    {
        foreach (var record in batch.Iterations)
        {
            _events.Publish(RunEventKind.Iteration, new IterationEvent(record.Iteration, record.Kind!.Value, record.Score));
        }

        if ((after.BestScore, after.BestIteration) != (before.BestScore, before.BestIteration))
        {
            _events.Publish(RunEventKind.BestScore, new BestScoreEvent(after.BestScore, after.BestIteration));
        }

        if (after.Status != before.Status)
        {
            var reason = batch.StatusReason ?? "changed";
            Telemetry.RunTelemetry.StatusChanges.Add(1, new KeyValuePair<string, object?>(Telemetry.RunTelemetry.StatusTag, after.Status.ToName()));
            _events.Publish(RunEventKind.Status, new StatusEvent(after.Status, before.Status, reason));
            logger.LogInformation("Run {RunId}: {From} → {To} ({Reason})", _runId, before.Status.ToName(), after.Status.ToName(), reason);
            _ = FollowStatusAsync();
        }
    }

    private void StartLiveTimers()
    {
        if (RequireRun().Status.IsEnded())
        {
            return;
        }

        _stallTimer ??= this.RegisterGrainTimer(static (grain, _) => grain.CheckStallAsync(), this, new GrainTimerCreationOptions
        {
            DueTime = _options.StallCheckPeriod,
            Period = _options.StallCheckPeriod,
            Interleave = true,
        });
        _checkpointTimer ??= this.RegisterGrainTimer(static (grain, _) => grain.CheckpointAsync(grain._options.CheckpointPeriod), this, new GrainTimerCreationOptions
        {
            DueTime = _options.CheckpointPeriod,
            Period = _options.CheckpointPeriod,
            Interleave = true,
        });
    }

    private async Task StopLiveTimersAsync()
    {
        _stallTimer?.Dispose();
        _checkpointTimer?.Dispose();
        _stallTimer = _checkpointTimer = null;
        if (await this.GetReminder(StallReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    // Timers and the reminder follow the status: watch an active run, forget an ended one.
    private async Task OnStatusChangedAsync()
    {
        if (_run is not { } run)
        {
            return;
        }

        if (run.Status.IsEnded())
        {
            await StopLiveTimersAsync();
            // The project's analytics changed: have them refreshed soon rather than at the next scheduled refresh.
            await GrainFactory.GetGrain<IAnalyticsRefreshGrain>(0).RequestRefreshAsync();
        }
        else if (run.Status is RunStatus.Running)
        {
            StartLiveTimers();
            var period = _options.StallAfter < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : _options.StallAfter;
            await this.RegisterOrUpdateReminder(StallReminder, period, period);
        }
        else if (run.Status is RunStatus.Stalled && await this.GetReminder(StallReminder) is { } reminder && _run?.Status is RunStatus.Stalled)
        {
            // A stalled run has nothing left to notice until its client speaks again (which activates it and starts
            // the watch anew). Woken every few minutes, an abandoned run's grain would stay active for ever, and be
            // activated again after every silo restart.
            await this.UnregisterReminder(reminder);
        }
    }

    private async Task CheckStallAsync()
    {
        if (_run is not { } run || run.Status != RunStatus.Running || AcceptedStatus != RunStatus.Running || _deleting)
        {
            return;
        }

        var lastSignOfLife = Latest(_heartbeatAt, run.LastHeartbeatAt) ?? run.StartTime ?? run.UpdatedAt;
        var silentFor = DateTimeOffset.UtcNow - lastSignOfLife;
        if (silentFor < _options.StallAfter || _queue.Count > 0 || _committing is not null)
        {
            return;
        }

        try
        {
            await WriteAsync(new RunWrite
            {
                Transition = new RunTransition(RunStatus.Stalled),
                Reason = $"no heartbeat for {silentFor.TotalSeconds:0} s",
            });
        }
        catch (Exception ex)
        {
            // A timer has no caller to answer: the next check tries again.
            logger.LogWarning(ex, "Run {RunId}: could not mark the run stalled", _runId);
        }
    }

    // The heartbeat goes to grain storage only when neither the row nor the last checkpoint holds one within
    // `tolerance` of it: a run whose progress or samples are written every second (the row carries its heartbeat)
    // causes no checkpoint at all. The durable heartbeat only decides when a run that moved after a crash counts as
    // silent (minutes), so the timer's tolerance of one period costs nothing. Event ids need no checkpoint to keep
    // rising (RunEventLog.FirstIdAfter); the checkpoint carries the newest as a floor.
    // Timers and deactivation interleave: judged and written under one lock, or a second caller would write again
    // what the first just wrote, on the same ETag.
    private async Task CheckpointAsync(TimeSpan tolerance)
    {
        await _checkpointLock.WaitAsync();
        try
        {
            if (_run is not { } run || _heartbeatAt is not { } beat
                || (Latest(Latest(live.State.LastHeartbeatAt, run.LastHeartbeatAt), _offeredHeartbeatAt) is { } durable && beat - durable <= tolerance))
            {
                return;
            }

            var stored = (live.State.LastHeartbeatAt, live.State.LastEventId);
            (live.State.LastHeartbeatAt, live.State.LastEventId) = (beat, _events.LastId);
            try
            {
                await live.WriteStateAsync();
            }
            catch
            {
                // Not written: judged against what storage holds, the next tick tries again.
                (live.State.LastHeartbeatAt, live.State.LastEventId) = stored;
                throw;
            }
        }
        finally
        {
            _checkpointLock.Release();
        }
    }

    // Status bookkeeping after a commit runs beside the callers' answers; its failure is logged, not lost.
    private async Task FollowStatusAsync()
    {
        try
        {
            await OnStatusChangedAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Run {RunId}: could not update timers and reminder after a status change", _runId);
        }
    }
}
