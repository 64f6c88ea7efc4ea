using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;
using Orleans.Hosting;

namespace OptimizationRuns.Grains.Analytics;

/// <summary>
/// Refreshes the analytics view: a grain timer every <see cref="AnalyticsOptions.RefreshPeriod"/> while active, a
/// one-shot timer <see cref="AnalyticsOptions.RefreshAfterRunEnds"/> after a run ended, and a reminder that reactivates the grain (and so its timer) on another silo when its silo is gone.
/// </summary>
/// <remarks>
/// Reentrant, so callers can queue behind a running refresh; <see cref="_gate"/> lets one refresh run at a time
/// and lets callers who arrived during it share the next one instead of each starting their own.
/// </remarks>
[Reentrant]
public sealed class AnalyticsRefreshGrain(
    AnalyticsQueries queries,
    IOptions<AnalyticsOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<AnalyticsRefreshGrain> logger) : Grain, IAnalyticsRefreshGrain, IRemindable
{
    private const string KeepAliveReminder = "analytics-refresh";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeSpan _period = options.Value.RefreshPeriod;
    private readonly TimeSpan _afterRunEnds = options.Value.RefreshAfterRunEnds;
    private IGrainTimer? _requested;
    private long _started;
    private Task<DateTimeOffset>? _last;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_period <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        this.RegisterGrainTimer(static (grain, _) => grain.RefreshOnScheduleAsync(), this, new GrainTimerCreationOptions
        {
            DueTime = _period,
            Period = _period,
            Interleave = true,
            KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_period <= TimeSpan.Zero)
        {
            logger.LogInformation("Scheduled refresh of the analytics view is off (Analytics:RefreshPeriod is {Period})", _period);
            return;
        }

        // Reminders tick at most once a minute; the timer keeps the shorter periods that tests and dashboards may set.
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        var period = _period < minimum ? minimum : _period;
        await this.RegisterOrUpdateReminder(KeepAliveReminder, period, period);
    }

    /// <summary>Nothing to do: being activated started the timer.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    /// <inheritdoc />
    public Task RequestRefreshAsync()
    {
        if (_afterRunEnds <= TimeSpan.Zero || _requested is not null)
        {
            return Task.CompletedTask;
        }

        _requested = this.RegisterGrainTimer(static async (grain, _) =>
        {
            grain._requested?.Dispose();
            grain._requested = null;
            await grain.RefreshOnScheduleAsync();
        }, this, new GrainTimerCreationOptions { DueTime = _afterRunEnds, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = true });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset> RefreshAsync(CancellationToken cancellationToken = default)
    {
        // A refresh that started before this call may miss rows committed just before it: wait for one that starts
        // after it. Callers that queued behind the same refresh all share the one that follows.
        var needed = _started + 1;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_started < needed)
            {
                _started++;
                _last = RefreshViewAsync();
            }

            return await _last!.WaitAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RefreshOnScheduleAsync()
    {
        try
        {
            await RefreshAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Scheduled refresh of the analytics view failed; the next one is in {Period}", _period);
        }
    }

    // Not cancelled with a caller: others may be waiting for the same refresh.
    private async Task<DateTimeOffset> RefreshViewAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var at = await queries.RefreshAsync(CancellationToken.None);
        logger.LogInformation("Analytics view refreshed in {ElapsedMs:0.0} ms", Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc));
    }
}
