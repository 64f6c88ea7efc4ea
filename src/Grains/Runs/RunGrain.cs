using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// One optimization run: live state in memory, durable rows in PostgreSQL. Keyed by the run id with the
/// project id as key extension, so every statement it runs is scoped to that project.
/// </summary>
/// <remarks>
/// Reentrant: while one call waits for its group commit, others may add to the next one. Between
/// awaits the grain runs one turn at a time, so its fields need no locks; <see cref="_control"/>
/// orders the status-changing operations among themselves.
/// </remarks>
[Reentrant]
public sealed partial class RunGrain(
    [PersistentState("live", StorageNames.Runs)] IPersistentState<RunLiveState> live,
    RunStore runs,
    IngestStore ingest,
    IOptions<RunOptions> options,
    ILogger<RunGrain> logger) : Grain, IRunGrain, IRemindable
{
    private readonly RunOptions _options = options.Value;
    private readonly SemaphoreSlim _control = new(1, 1);
    private Guid _runId;
    private Guid _projectId;
    private RunRow? _run;
    private RunEventLog _events = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _runId = this.GetPrimaryKey(out var projectKey);
        _projectId = Guid.TryParse(projectKey, out var projectId) ? projectId : Guid.Empty;
        _events = new RunEventLog(live.State.LastEventId, _options.EventsKept);
        Telemetry.RunTelemetry.ActiveRuns.Add(1);
        if (_projectId != Guid.Empty)
        {
            _run = await runs.LoadAsync(_projectId, _runId, cancellationToken);
        }

        // The ingest state (every committed sample key) is loaded by the first write, not here: most
        // activations of a finished run only answer reads.
        if (_run is not null)
        {
            StartLiveTimers();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Everything acknowledged is committed already; this commits what is still queued.
        await DrainAsync();
        await CheckpointAsync();
        Telemetry.RunTelemetry.ActiveRuns.Add(-1);
    }

    /// <inheritdoc />
    public async Task<RunSnapshot> CreateAsync(CreateRun command, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(command);
        if (_projectId == Guid.Empty)
        {
            throw new RunNotFoundException(_runId);
        }

        await _control.WaitAsync(cancellationToken);
        try
        {
            if (_run is null)
            {
                var row = await runs.InsertAsync(_projectId, _runId, command, cancellationToken)
                    ?? await runs.LoadAsync(_projectId, _runId, cancellationToken)
                    ?? throw new RunConflictException($"The id {_runId} is already taken.");
                _run = row;
                ResetIngestState([], []);
                _ingestLoad = Task.CompletedTask;
                logger.LogInformation("Run {RunId} created in project {ProjectId}: {RunName} ({OptimizerType})",
                    _runId, _projectId, row.RunName, row.OptimizerType);
            }

            return Snapshot();
        }
        finally
        {
            _control.Release();
        }
    }

    /// <inheritdoc />
    public async Task<RunSnapshot?> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_run is null && _projectId != Guid.Empty)
        {
            // Created since this activation looked (by another path); cheap for the not-found case too.
            _run = await runs.LoadAsync(_projectId, _runId, cancellationToken);
            if (_run is not null)
            {
                StartLiveTimers();
            }
        }

        if (_run is null)
        {
            // Most likely another project's caller: free the activation soon.
            DeactivateOnIdle();
            return null;
        }

        return Snapshot();
    }

    /// <inheritdoc />
    public async Task<RunSnapshot> PatchAsync(RunPatch patch, CancellationToken cancellationToken = default)
    {
        var run = await UpdateAsync(patch.Update, cancellationToken);
        return patch.Transition is { } transition ? await TransitionAsync(transition, cancellationToken) : run;
    }

    public async Task<RunSnapshot> TransitionAsync(RunTransition transition, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(transition);
        var run = RequireRun();
        await _control.WaitAsync(cancellationToken);
        try
        {
            var current = Status;
            if (IsRepeat(run, transition))
            {
                return Snapshot();
            }

            if (!IsAllowed(current, transition.Status))
            {
                throw new RunConflictException(
                    $"A {current.ToName()} run cannot become {transition.Status.ToName()}.");
            }

            if (transition.Status.IsEnded())
            {
                // Refuse new writes, then let the queued ones commit before the run ends.
                _ending = true;
                await DrainAsync();
            }

            try
            {
                Refresh(await runs.TransitionAsync(_projectId, _runId, transition, cancellationToken));
            }
            finally
            {
                _ending = false;
            }

            PublishStatus(current, transition.Status, transition.Status == RunStatus.Running ? "started" : "requested");
            await OnStatusChangedAsync();
            return Snapshot();
        }
        finally
        {
            _control.Release();
        }
    }

    /// <inheritdoc />
    public async Task<RunSnapshot> UpdateAsync(RunUpdate update, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(update);
        RequireRun();
        if (update.IsEmpty)
        {
            return Snapshot();
        }

        await _control.WaitAsync(cancellationToken);
        try
        {
            Refresh(await runs.UpdateAsync(_projectId, _runId, update, cancellationToken));
            return Snapshot();
        }
        finally
        {
            _control.Release();
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        RequireRun();
        await _control.WaitAsync(cancellationToken);
        try
        {
            _ending = true;
            await DrainAsync();
            await runs.DeleteAsync(_projectId, _runId, cancellationToken);
            _run = null;
            _stallTimer?.Dispose();
            _checkpointTimer?.Dispose();
            _stallTimer = _checkpointTimer = null;
            if (await this.GetReminder(StallReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            await live.ClearStateAsync();
            logger.LogInformation("Run {RunId} of project {ProjectId} deleted", _runId, _projectId);
            DeactivateOnIdle();
        }
        finally
        {
            _ending = false;
            _control.Release();
        }
    }

    /// <inheritdoc />
    public async Task<RunSnapshot> ReportProgressAsync(RunProgress progress, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(progress);
        RequireWritable();
        await _control.WaitAsync(cancellationToken);
        try
        {
            var before = Status;
            live.State.Phase = progress.Phase ?? live.State.Phase;
            live.State.Message = progress.Message ?? live.State.Message;
            live.State.LastHeartbeatAt = DateTimeOffset.UtcNow;
            var movesForward = progress.CurrentIteration > (_run!.CurrentIteration ?? -1)
                || (progress.TotalIterations is { } total && total != _run.TotalIterations);
            if (movesForward || before is RunStatus.Pending or RunStatus.Stalled)
            {
                Refresh(await runs.ProgressAsync(_projectId, _runId, progress, cancellationToken));
            }

            _events.Publish(RunEventKind.Progress, new
            {
                phase = live.State.Phase,
                currentIteration = _run.CurrentIteration,
                totalIterations = _run.TotalIterations,
                message = live.State.Message,
            });
            if (Status != before)
            {
                PublishStatus(before, Status, before == RunStatus.Stalled ? "heartbeat resumed" : "first heartbeat");
                await OnStatusChangedAsync();
            }

            await CheckpointAsync(force: true);
            return Snapshot();
        }
        finally
        {
            _control.Release();
        }
    }

    // A row read while a group commit was in flight may be older than what the grain knows: the
    // aggregates only grow, so the larger value is the newer one.
    private void Refresh(RunRow? fresh)
    {
        if (fresh is null)
        {
            return;
        }

        if (_run is { } known)
        {
            fresh.SamplesEvaluated = Math.Max(fresh.SamplesEvaluated, known.SamplesEvaluated);
            fresh.SamplesSuccessful = Math.Max(fresh.SamplesSuccessful, known.SamplesSuccessful);
            fresh.SamplesFailed = Math.Max(fresh.SamplesFailed, known.SamplesFailed);
            fresh.PromptTokens = Math.Max(fresh.PromptTokens, known.PromptTokens);
            fresh.CompletionTokens = Math.Max(fresh.CompletionTokens, known.CompletionTokens);
            fresh.TotalTokens = fresh.PromptTokens + fresh.CompletionTokens;
            fresh.CostUsd = Math.Max(fresh.CostUsd, known.CostUsd);
            fresh.CompletedIterations = Math.Max(fresh.CompletedIterations, known.CompletedIterations);
            fresh.AvgLatencyMs = _runTotals.AvgLatencyMs ?? fresh.AvgLatencyMs;
        }

        _run = fresh;
    }

    private RunStatus Status => DomainNames.ParseName<RunStatus>(RequireRun().Status);

    private RunRow RequireRun() => _run ?? throw new RunNotFoundException(_runId);

    private void RequireWritable()
    {
        var status = Status;
        if (status.IsEnded() || _ending)
        {
            throw new RunConflictException($"The run has ended ({(_ending ? "ending" : status.ToName())}): it takes no more writes.");
        }
    }

    // Ending twice the same way is a no-op; so is starting a running run.
    private static bool IsRepeat(RunRow run, RunTransition transition)
    {
        var current = DomainNames.ParseName<RunStatus>(run.Status);
        if (current != transition.Status)
        {
            return false;
        }

        if (current == RunStatus.Completed && transition.FinalScore is { } score && score != run.FinalScore)
        {
            throw new RunConflictException($"The run already completed with final score {run.FinalScore}.");
        }

        return true;
    }

    private static bool IsAllowed(RunStatus from, RunStatus to) => (from, to) switch
    {
        (_, _) when from.IsEnded() => false,
        (RunStatus.Pending, RunStatus.Running) => true,
        (RunStatus.Stalled, RunStatus.Running) => true,
        (_, RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled) => true,
        _ => false,
    };

    // The row as the read side answers it, plus what only the live grain knows.
    private RunSnapshot Snapshot() => Queries.QueryViews.ToSnapshot(RequireRun()) with
    {
        Phase = live.State.Phase,
        Message = live.State.Message,
        P50LatencyMs = IngestLoaded ? _latency.Percentile(0.50) : live.State.P50LatencyMs,
        P95LatencyMs = IngestLoaded ? _latency.Percentile(0.95) : live.State.P95LatencyMs,
        LastHeartbeatAt = live.State.LastHeartbeatAt,
        LastEventId = _events.LastId,
        BufferedSamples = _bufferedSamples,
    };

    private static DateTimeOffset? Utc(DateTime? value) =>
        value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}
