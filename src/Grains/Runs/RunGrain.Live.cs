using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace OptimizationRuns.Grains.Runs;

// The live side: events for watchers, stall detection, and checkpoints of the live state.
public sealed partial class RunGrain
{
    private const string StallReminder = "stall-watch";
    private IGrainTimer? _stallTimer;
    private IGrainTimer? _checkpointTimer;
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private bool _liveDirty;

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

            if (Status.IsEnded() && _queue.Count == 0 && last >= _events.LastId)
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

    private void PublishStatus(RunStatus from, RunStatus to, string reason)
    {
        _events.Publish(RunEventKind.Status, new { status = to.ToName(), previous = from.ToName(), reason });
        logger.LogInformation("Run {RunId}: {From} → {To} ({Reason})", _runId, from.ToName(), to.ToName(), reason);
    }

    private void StartLiveTimers()
    {
        if (Status.IsEnded())
        {
            return;
        }

        _stallTimer ??= this.RegisterGrainTimer(static (grain, _) => grain.CheckStallAsync(), this, new GrainTimerCreationOptions
        {
            DueTime = _options.StallCheckPeriod,
            Period = _options.StallCheckPeriod,
            Interleave = true,
        });
        _checkpointTimer ??= this.RegisterGrainTimer(static (grain, _) => grain.CheckpointAsync(), this, new GrainTimerCreationOptions
        {
            DueTime = _options.CheckpointPeriod,
            Period = _options.CheckpointPeriod,
            Interleave = true,
        });
    }

    // Timers and the reminder follow the status: watch an active run, forget an ended one.
    private async Task OnStatusChangedAsync()
    {
        if (Status.IsEnded())
        {
            _stallTimer?.Dispose();
            _checkpointTimer?.Dispose();
            _stallTimer = _checkpointTimer = null;
            if (await this.GetReminder(StallReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        else if (Status is RunStatus.Running)
        {
            StartLiveTimers();
            var period = _options.StallAfter < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : _options.StallAfter;
            await this.RegisterOrUpdateReminder(StallReminder, period, period);
        }

        await CheckpointAsync(force: true);
    }

    private async Task CheckStallAsync()
    {
        if (_run is null || Status != RunStatus.Running || _ending)
        {
            return;
        }

        var lastSignOfLife = live.State.LastHeartbeatAt ?? Utc(_run.StartTime) ?? Utc(_run.UpdatedAt)!.Value;
        var silentFor = DateTimeOffset.UtcNow - lastSignOfLife;
        if (silentFor < _options.StallAfter || _queue.Count > 0)
        {
            return;
        }

        await _control.WaitAsync();
        try
        {
            if (Status != RunStatus.Running)
            {
                return;
            }

            Refresh(await runs.TransitionAsync(_projectId, _runId, new RunTransition(RunStatus.Stalled), CancellationToken.None));
            PublishStatus(RunStatus.Running, RunStatus.Stalled, $"no heartbeat for {silentFor.TotalSeconds:0} s");
            await CheckpointAsync(force: true);
        }
        finally
        {
            _control.Release();
        }
    }

    // Checkpoints come from timers, heartbeats and status changes, which interleave: one write at a
    // time, or two writes would race on the same ETag.
    private async Task CheckpointAsync(bool force = false)
    {
        if (_run is null || (!_liveDirty && !force && live.State.LastEventId == _events.LastId))
        {
            return;
        }

        await _checkpointLock.WaitAsync();
        try
        {
            live.State.LastEventId = _events.LastId;
            if (IngestLoaded)
            {
                // Cold reads answer the percentiles from here, without loading every sample.
                live.State.P50LatencyMs = _latency.Percentile(0.50);
                live.State.P95LatencyMs = _latency.Percentile(0.95);
            }

            _liveDirty = false;
            await live.WriteStateAsync();
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
