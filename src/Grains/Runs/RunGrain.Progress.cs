using Microsoft.Extensions.Logging;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Grains.Runs;

// Progress and heartbeats: accepted in memory and coalesced into few row writes.
//
// A progress report is not a sample: it carries no result of record, each one supersedes the last, and workers send
// it again and again (8 workers a second per run is ordinary). So an acknowledged progress report is live at once
// (reads and watchers see it) but durable only with the next commit of the run, or at most ProgressWritePeriod
// later, when the silo's RunProgressWriter writes the latest progress of all its runs in one transaction. A silo that
// dies (kill -9) loses at most the last period's phase, message and current iteration of its runs, and the workers'
// next report restores them. A graceful deactivation commits them first. What must not be lost stays durable before
// its answer: a report that changes the status (the first heartbeat of a pending run, a stalled run's resumption)
// waits for its commit, as samples, iterations and transitions do.
public sealed partial class RunGrain
{
    // Accepted but not yet committed by the run itself; merged into every commit. Versioned, so a report accepted
    // while a commit is under way stays unsaved until a later commit carries it.
    private RunProgress? _unsavedProgress;
    private long _progressVersion;
    // The heartbeat of the last progress offered to the silo's writer: in the row within a period, so no checkpoint.
    private DateTimeOffset? _offeredHeartbeatAt;

    /// <inheritdoc />
    public async Task<RunSnapshot> ReportProgressAsync(RunProgress progress, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(progress);
        RequireWritable();
        var changes = Changes(Snapshot(), progress);
        _heartbeatAt = StoredNow();
        RunTelemetry.ProgressReports.Add(1);
        if (AcceptedStatus is RunStatus.Pending or RunStatus.Stalled)
        {
            // It changes the status: durable before the answer.
            await WriteAsync(new RunWrite { Progress = progress });
        }
        else if (changes)
        {
            _unsavedProgress = RunLedger.Merge(_unsavedProgress, progress);
            _progressVersion++;
        }

        var run = Snapshot();
        if (changes)
        {
            // Only what a commit did not carry (a status-changing report's commit leaves nothing unsaved).
            OfferProgress(run);
            // A report that changes nothing (a bare heartbeat, a repeat) is no news: watchers, and the dashboard pages
            // that re-render on every progress event, are not woken 8 times a second by a run's workers saying "alive".
            _events.Publish(RunEventKind.Progress, new ProgressEvent(run.Phase, run.CurrentIteration, run.TotalIterations, run.Message));
        }

        return run;
    }

    private static bool Changes(RunSnapshot run, RunProgress progress) =>
        (progress.Phase is not null && progress.Phase != run.Phase)
        || (progress.Message is not null && progress.Message != run.Message)
        || progress.CurrentIteration > (run.CurrentIteration ?? -1)
        || (progress.TotalIterations is { } total && total != run.TotalIterations);

    // A commit carried the progress of version <paramref name="version"/>: unless more arrived since, nothing is unsaved.
    // If more did, the commit may have stored an older heartbeat than the writer holds for it: offer it again, newer.
    private void ProgressCommitted(long version)
    {
        if (_progressVersion == version)
        {
            _unsavedProgress = null;
        }
        else
        {
            OfferProgress(Snapshot());
        }
    }

    // The run as the grain shows it: its committed row with the unsaved progress merged.
    private void OfferProgress(RunSnapshot run)
    {
        if (_unsavedProgress is null || _heartbeatAt is not { } beat)
        {
            return;
        }

        progressWriter.Offer(new RunProgressRow(_projectId, _runId, run.Phase, run.Message, run.CurrentIteration, run.TotalIterations, beat));
        _offeredHeartbeatAt = beat;
    }

    // Deactivation has no caller to answer: a failure is logged (the writer may still hold the progress, and after a
    // deactivation the workers' next reports bring it back).
    private async Task TryWriteUnsavedProgressAsync()
    {
        try
        {
            await WriteUnsavedProgressAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Run {RunId}: could not write its progress", _runId);
        }
    }

    // A queued or running commit carries the unsaved progress already (or leaves it for the next report to schedule).
    private async Task WriteUnsavedProgressAsync()
    {
        if (_unsavedProgress is null || _run is null || _deleting)
        {
            return;
        }

        if (_queue.Count > 0 || _committing is not null)
        {
            await DrainAsync();
            if (_unsavedProgress is null)
            {
                return;
            }
        }

        await WriteAsync(new RunWrite());
    }
}
