using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;
using Orleans.Placement;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// One optimization run: live state in memory, durable rows in PostgreSQL. Keyed by the run id with the
/// project id as key extension, so every statement it runs is scoped to that project. The grain is the only writer
/// of its run's rows: every change (patch, progress, stall, iterations, samples) is a write in one ordered queue,
/// committed in groups (RunGrain.Ingest.cs); progress is coalesced in memory and written with the next commit or, within
/// a short period, handed to the silo's <see cref="RunProgressWriter"/>, which writes the progress of many runs in one
/// transaction and never over a newer commit (RunGrain.Progress.cs); the live side (events, stalls, checkpoints) is
/// RunGrain.Live.cs.
/// </summary>
/// <remarks>
/// Reentrant: while one call waits for its group commit, others may add to the next one. Between awaits the grain
/// runs one turn at a time, so its fields need no locks.
/// Placed at random: Orleans' default (resource-optimized) placement judges silos by statistics published every few
/// seconds, so a burst of new runs between two publications all went to the silo that looked best at the last one
/// (52 of 52 runs on one of two silos in a CI run of MultiSiloProcessTests). A run's cost is its own writes, alike on
/// every silo, so an even spread is the right one.
/// </remarks>
[Reentrant]
[RandomPlacement]
public sealed partial class RunGrain(
    [PersistentState("live", StorageNames.Runs)] IPersistentState<RunLiveState> live,
    RunStore runs,
    IngestStore ingest,
    RunProgressWriter progressWriter,
    IOptions<RunOptions> options,
    DistributedContextPropagator propagator,
    ILogger<RunGrain> logger) : Grain, IRunGrain, IRemindable, ILifecycleParticipant<IGrainLifecycle>
{
    private readonly RunOptions _options = options.Value;
    private Guid _runId;
    private Guid _projectId;
    // The run row as last committed; changes reach it only through a commit.
    private RunSnapshot? _run;
    private RunEventLog _events = null!;

    /// <summary>
    /// Reads the run row in the lifecycle stage where Orleans reads the live state from grain storage: Orleans starts
    /// a stage's observers together, so an activation waits for one database round trip, not two in a row.
    /// </summary>
    public void Participate(IGrainLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RunGrain), GrainLifecycleStage.SetupState, ReadRunAsync);

    // Runs beside the grain storage's read of the live state: it must not touch live.State.
    private async Task ReadRunAsync(CancellationToken cancellationToken)
    {
        _runId = this.GetPrimaryKey(out var projectKey);
        _projectId = Guid.TryParse(projectKey, out var projectId) ? projectId : Guid.Empty;
        if (_projectId == Guid.Empty)
        {
            return;
        }

        using var activity = StartActivity("run.activate", CallerOfActivation());
        try
        {
            _run = await runs.LoadAsync(_projectId, _runId, cancellationToken);
        }
        catch (Exception ex) when (DatabaseFailures.IsDatabaseFailure(ex))
        {
            // An activation's failure reaches the caller as it is: it must be ours, serializable.
            throw DatabaseFailures.ToGrainError(ex);
        }
    }

    /// <summary>
    /// The span of the call that activates the run. Orleans runs the lifecycle with no current span (its own
    /// activation span, when its lifecycle source is listened to, is never made current), but with that call's request
    /// context, where its trace travels (Orleans' activity propagation, with the propagator Orleans uses): the read is
    /// part of the caller's trace.
    /// </summary>
    private ActivityContext CallerOfActivation()
    {
        propagator.ExtractTraceIdAndState(null, static (_, field, out value, out values) =>
        {
            value = RequestContext.Get(field) as string;
            values = null;
        }, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var caller) ? caller : default;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _events = new RunEventLog(RunEventLog.FirstIdAfter(live.State.LastEventId, DateTimeOffset.UtcNow), _options.EventsKept);
        _heartbeatAt = live.State.LastHeartbeatAt;
        _queue = new GroupCommitQueue(_options.MaxBufferedSamples);

        // The ingest state (every committed sample key) is loaded by the first write, not here: most
        // activations of a finished run only answer reads.
        if (_run is not null)
        {
            StartLiveTimers();
        }

        // Counted once activated: Orleans does not deactivate (nor call OnDeactivateAsync on) an activation that failed.
        Telemetry.RunTelemetry.ActiveRuns.Add(1);
        CountStatus();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Every acknowledged sample, iteration and status is committed already; this commits what is still queued
        // and the progress accepted since the last commit.
        try
        {
            await TryWriteUnsavedProgressAsync();
            await DrainAsync();
            await CheckpointAsync(tolerance: TimeSpan.Zero);
        }
        finally
        {
            // The activation goes whether or not its last writes succeeded (a database that is down): so do its counts.
            Telemetry.RunTelemetry.ActiveRuns.Add(-1);
            CountStatus(gone: true);
        }
    }

    /// <inheritdoc />
    public async Task<RunSnapshot> CreateAsync(CreateRun command, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(command);
        if (_projectId == Guid.Empty)
        {
            throw new RunNotFoundException(_runId);
        }

        if (_run is null)
        {
            // Run ids are scoped to their project (RunIds), so a taken id is this project's run: a repeated create.
            var created = await runs.InsertAsync(_projectId, _runId, command, cancellationToken);
            _run ??= created ?? await runs.LoadAsync(_projectId, _runId, cancellationToken)
                ?? throw new RunNotFoundException(_runId);
            if (created is not null)
            {
                _ledger.Load([], []);
                _ingestLoad = Task.CompletedTask;
                logger.LogInformation("Run {RunId} created in project {ProjectId}: {RunName} ({OptimizerType})",
                    _runId, _projectId, created.RunName, created.OptimizerType.ToName());
            }

            StartLiveTimers();
            CountStatus();
        }

        return Snapshot();
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
                CountStatus();
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
        RunRules.Validate(patch.Update);
        if (patch.Transition is { } requested)
        {
            RunRules.Validate(requested);
        }

        var run = RequireRun();
        var current = AcceptedStatus;
        var transition = patch.Transition;
        if (transition is not null && IsRepeat(run, current, transition))
        {
            transition = null;
        }
        else if (transition is not null && !IsAllowed(current, transition.Status))
        {
            throw new RunConflictException($"A {current.ToName()} run cannot become {transition.Status.ToName()}.");
        }

        if (patch.Update.IsEmpty && transition is null)
        {
            return Snapshot();
        }

        var reason = transition?.Status == RunStatus.Running ? "started" : "requested";
        await WriteAsync(new RunWrite { Update = patch.Update.IsEmpty ? null : patch.Update, Transition = transition, Reason = reason });
        return Snapshot();
    }

    /// <inheritdoc />
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        RequireRun();
        _deleting = true;
        try
        {
            await DrainAsync();
            await runs.DeleteAsync(_projectId, _runId, cancellationToken);
            _run = null;
            CountStatus();
            _unsavedProgress = null;
            await StopLiveTimersAsync();
            await live.ClearStateAsync();
            logger.LogInformation("Run {RunId} of project {ProjectId} deleted", _runId, _projectId);
            DeactivateOnIdle();
        }
        finally
        {
            _deleting = false;
        }
    }

    private RunSnapshot RequireRun() => _run ?? throw new RunNotFoundException(_runId);

    // The status the run will have once its queued writes commit: later requests are judged against it.
    private RunStatus AcceptedStatus =>
        _queue.Waiting.OfType<RunWrite>().LastOrDefault(w => w.Transition is not null)?.Transition!.Status
        ?? _committing?.OfType<RunWrite>().LastOrDefault(w => w.Transition is not null)?.Transition!.Status
        ?? RequireRun().Status;

    private void RequireWritable()
    {
        var status = AcceptedStatus;
        if (status.IsEnded() || _deleting)
        {
            throw new RunConflictException($"The run has ended ({(_deleting ? "deleting" : status.ToName())}): it takes no more writes.");
        }
    }

    // Ending twice the same way is a no-op; so is starting a running run.
    private static bool IsRepeat(RunSnapshot run, RunStatus current, RunTransition transition)
    {
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

    // The row as committed, plus what only the live grain knows (the progress not yet written among it).
    private RunSnapshot Snapshot()
    {
        var run = _unsavedProgress is { } progress ? RunLedger.WithProgress(RequireRun(), progress) : RequireRun();
        var (p50, p95) = IngestLoaded ? _ledger.Percentiles : (run.P50LatencyMs, run.P95LatencyMs);
        return run with
        {
            P50LatencyMs = p50,
            P95LatencyMs = p95,
            LastHeartbeatAt = Latest(_heartbeatAt, run.LastHeartbeatAt),
            LastEventId = _events.LastId,
            BufferedSamples = _queue.BufferedSamples,
        };
    }

    // The database keeps microseconds: a time the grain answers must read the same once stored.
    private static DateTimeOffset StoredNow()
    {
        var now = DateTimeOffset.UtcNow;
        return now.AddTicks(-(now.Ticks % 10));
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
