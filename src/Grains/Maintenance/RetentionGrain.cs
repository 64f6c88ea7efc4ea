using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Projects;
using OptimizationRuns.Grains.Runs;
using Orleans.Concurrency;
using Orleans.Hosting;

namespace OptimizationRuns.Grains.Maintenance;

/// <summary>
/// Retention: the projects' policies, and a purge pass every <see cref="RetentionOptions.Period"/> (a grain timer, and
/// a reminder that brings the grain back on another silo when its silo is gone). A pass takes at most
/// <see cref="RetentionOptions.RunsPerPass"/> expired runs, oldest first; each is exported (<see cref="RetentionArchive"/>)
/// and only then deleted through its run grain — the row's single writer, which drains its queue first — one run at a
/// time with a pause between, so ingest keeps the database. Memory holds one run's pages, never the data to purge.
/// </summary>
/// <remarks>Reentrant, so policy calls are answered while a pass runs; <see cref="_pass"/> lets one pass run at a time.</remarks>
[Reentrant]
public sealed class RetentionGrain(
    RetentionStore store,
    IOptions<RetentionOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<RetentionGrain> logger) : Grain, IRetentionGrain, IRemindable
{
    private const string KeepAliveReminder = "retention";
    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly RetentionOptions _options = options.Value;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_options.Period > TimeSpan.Zero)
        {
            this.RegisterGrainTimer(static (grain, ct) => grain.PurgeOnScheduleAsync(ct), this, new GrainTimerCreationOptions
            {
                DueTime = _options.Period,
                Period = _options.Period,
                Interleave = true,
                KeepAlive = true,
            });
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<int?> GetRetentionDaysAsync(Guid projectId, CancellationToken cancellationToken = default)
    {
        var (found, days) = await store.GetAsync(projectId, cancellationToken);
        return found ? days : throw new ProjectNotFoundException(projectId);
    }

    /// <inheritdoc />
    public async Task SetRetentionDaysAsync(Guid projectId, int? retentionDays, CancellationToken cancellationToken = default)
    {
        if (!await store.SetAsync(projectId, retentionDays, cancellationToken))
        {
            throw new ProjectNotFoundException(projectId);
        }

        logger.LogInformation("Retention of project {ProjectId} set to {RetentionDays} days", projectId, retentionDays?.ToString() ?? "unlimited");
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Period <= TimeSpan.Zero)
        {
            return;
        }

        // Reminders tick at most once a minute; the timer keeps shorter periods.
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        var period = _options.Period < minimum ? minimum : _options.Period;
        await this.RegisterOrUpdateReminder(KeepAliveReminder, period, period);
    }

    /// <summary>Nothing to do: being activated started the timer.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task<RetentionPass> PurgeAsync(CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(_options.ExportDirectory))
        {
            logger.LogWarning("Retention:ExportDirectory is not set: expired runs are kept (they are exported before they are deleted)");
            return new RetentionPass(0, 0, false);
        }

        await _pass.WaitAsync(cancellationToken);
        try
        {
            var archive = new RetentionArchive(_options.ExportDirectory);
            var pace = new RetentionPace(_options.SamplesPerSecond);
            var expired = await store.ExpiredAsync(_options.RunsPerPass, cancellationToken);
            long samples = 0;
            foreach (var run in expired)
            {
                samples += await PurgeRunAsync(archive, pace, run, cancellationToken);
                await Task.Delay(_options.PauseBetweenRuns, cancellationToken);
            }

            return new RetentionPass(expired.Count, samples, expired.Count == _options.RunsPerPass);
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task<long> PurgeRunAsync(RetentionArchive archive, RetentionPace pace, RetentionStore.ExpiredRun expired,
        CancellationToken cancellationToken)
    {
        var project = expired.ProjectId.ToString();
        var runGrain = GrainFactory.GetGrain<IRunGrain>(expired.RunId, project);
        if (await runGrain.GetAsync(cancellationToken) is not { } run)
        {
            return 0;
        }

        var (folder, samples) = await archive.WriteAsync(run, GrainFactory.GetGrain<IRunExportGrain>(expired.RunId, project), pace, cancellationToken);
        await runGrain.DeleteAsync(cancellationToken);
        await pace.SpendAsync(samples / 2.0, cancellationToken);
        logger.LogInformation("Retention: run {RunId} of project {ProjectId}, finished {EndedAt:u}, exported to {Folder} ({Samples} samples) and deleted",
            expired.RunId, expired.ProjectId, expired.EndedAt, folder, samples);
        return samples;
    }

    // A pass that fails (the database is down, the directory is full) deletes nothing it has not exported; the next tries again.
    private async Task PurgeOnScheduleAsync(CancellationToken cancellationToken)
    {
        try
        {
            RetentionPass pass;
            do
            {
                pass = await PurgeAsync(cancellationToken);
            }
            while (pass.More && !cancellationToken.IsCancellationRequested);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Retention pass failed; the next one tries again");
        }
    }
}
