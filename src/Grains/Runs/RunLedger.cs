using OptimizationRuns.Grains.Data;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// What a run has committed (sample keys, iterations, totals, latency) and what its queued writes have reserved, so
/// retries are judged exactly and each commit's rows and totals are planned without asking the database. The grain
/// is the run's only writer, so this stays exact. Single-threaded: the grain's turns.
/// </summary>
public sealed class RunLedger
{
    private readonly HashSet<long> _pendingKeys = [];
    private readonly Dictionary<int, (CommittedIteration Iteration, IterationWrite Write)> _pendingIterations = [];
    private HashSet<long> _keys = [];
    private Dictionary<int, CommittedIteration> _iterations = [];
    private Dictionary<int, SampleTotals> _iterationTotals = [];
    private LatencyHistogram _latency = new();

    /// <summary>The committed totals of the run's samples.</summary>
    public SampleTotals RunTotals { get; private set; }

    /// <summary>The run's latency percentiles over every committed sample; null while there are none.</summary>
    public (double? P50, double? P95) Percentiles => (_latency.Percentile(0.50), _latency.Percentile(0.95));

    /// <summary>Replaces what is known with what the database holds (activation, or after learning it was out of date).</summary>
    public void Load(IReadOnlyList<CommittedIteration> iterations, IReadOnlyList<CommittedSample> samples)
    {
        var keys = new HashSet<long>(samples.Count);
        var iterationTotals = new Dictionary<int, SampleTotals>();
        var runTotals = new SampleTotals();
        var latency = new LatencyHistogram();
        foreach (var s in samples)
        {
            keys.Add(Key(s.Iteration, s.SampleIndex));
            iterationTotals[s.Iteration] = iterationTotals.GetValueOrDefault(s.Iteration)
                .Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
            runTotals = runTotals.Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
            if (s.LatencyMs is { } ms)
            {
                latency.Add(ms);
            }
        }

        _keys = keys;
        _iterations = iterations.ToDictionary(i => i.Iteration);
        _iterationTotals = iterationTotals;
        RunTotals = runTotals;
        _latency = latency;
        _pendingKeys.Clear();
        _pendingIterations.Clear();
    }

    /// <summary>
    /// The samples of a batch that are new: neither committed, nor queued, nor repeated within the batch.
    /// <paramref name="waitsForInFlight"/> says whether some repeat rows still in flight, whose commit the caller must await.
    /// </summary>
    public List<SampleRecord> Fresh(IReadOnlyList<SampleRecord> samples, out bool waitsForInFlight)
    {
        var fresh = new List<SampleRecord>(samples.Count);
        var batchKeys = new HashSet<long>(samples.Count);
        waitsForInFlight = false;
        foreach (var sample in samples)
        {
            var key = Key(sample.Iteration, sample.SampleIndex);
            if (_keys.Contains(key) || !batchKeys.Add(key))
            {
                continue;
            }

            if (_pendingKeys.Contains(key))
            {
                waitsForInFlight = true;
                continue;
            }

            fresh.Add(sample);
        }

        return fresh;
    }

    /// <summary>
    /// What recording <paramref name="record"/> does, given what is committed and queued: the outcome, the record
    /// with its kind resolved, and the queued write it repeats (whose commit a duplicate awaits).
    /// </summary>
    /// <exception cref="RunConflictException">The iteration is scored already, differently.</exception>
    public (IterationOutcome Outcome, IterationRecord Resolved, PendingWrite? InFlight) Judge(IterationRecord record)
    {
        var pending = _pendingIterations.TryGetValue(record.Iteration, out var p) ? p : default;
        var known = pending.Iteration ?? _iterations.GetValueOrDefault(record.Iteration);
        // An iteration named without a kind keeps the kind it has; a new one is a minibatch trial.
        var kind = record.Kind ?? known?.Kind ?? IterationKind.Minibatch;
        var resolved = record.Kind == kind ? record : record with { Kind = kind };
        if (known is null)
        {
            return (IterationOutcome.Inserted, resolved, null);
        }

        if (known.Score is null)
        {
            // Recorded at its start, or created by its samples: this record completes it.
            var repeat = record.Score is null && known.Kind == kind && pending.Write is not null;
            return (repeat ? IterationOutcome.Duplicate : IterationOutcome.Updated, resolved, pending.Write);
        }

        if (record.Score is null || (record.Score == known.Score && kind == known.Kind))
        {
            // The same result again. With details (e.g. the chosen candidates, known only when the optimizer
            // finishes) it fills them in; bare, it is a retry and changes nothing.
            var fillsIn = record.Score is not null && HasDetails(record);
            return (fillsIn ? IterationOutcome.Updated : IterationOutcome.Duplicate, resolved, pending.Write);
        }

        throw new RunConflictException(
            $"Iteration {record.Iteration} is recorded with score {known.Score} ({known.Kind.ToName()}); it cannot change to {record.Score} ({kind.ToName()}).");
    }

    /// <summary>Marks the write's rows as queued, so repeats of them wait for it rather than write twice.</summary>
    public void Reserve(PendingWrite write)
    {
        switch (write)
        {
            case SampleWrite samples:
                foreach (var s in samples.Samples)
                {
                    _pendingKeys.Add(Key(s.Iteration, s.SampleIndex));
                }

                break;
            case IterationWrite iteration:
                var r = iteration.Record;
                _pendingIterations[r.Iteration] = (new CommittedIteration { Iteration = r.Iteration, Kind = r.Kind!.Value, Score = r.Score }, iteration);
                break;
        }
    }

    /// <summary>Forgets the reservations of writes that were not committed.</summary>
    public void Release(IEnumerable<PendingWrite> writes)
    {
        foreach (var write in writes)
        {
            switch (write)
            {
                case SampleWrite samples:
                    foreach (var s in samples.Samples)
                    {
                        _pendingKeys.Remove(Key(s.Iteration, s.SampleIndex));
                    }

                    break;
                case IterationWrite iteration when _pendingIterations.TryGetValue(iteration.Record.Iteration, out var p) && ReferenceEquals(p.Write, iteration):
                    _pendingIterations.Remove(iteration.Record.Iteration);
                    break;
            }
        }
    }

    /// <summary>
    /// The rows, totals and run row of one commit of <paramref name="writes"/>, on top of <paramref name="run"/> as
    /// committed and the <paramref name="unsavedProgress"/> accepted since (which never changes the status).
    /// </summary>
    public IngestBatch Plan(IReadOnlyList<PendingWrite> writes, RunSnapshot run, DateTimeOffset? lastHeartbeatAt, RunProgress? unsavedProgress = null)
    {
        var batch = new IngestBatch { Run = run, Latency = _latency.Clone() };
        var runTotals = RunTotals;
        var target = run;
        if (unsavedProgress is not null)
        {
            batch.PatchesRun |= ChangesTotal(target, unsavedProgress);
            target = WithProgress(target, unsavedProgress);
        }

        foreach (var write in writes)
        {
            switch (write)
            {
                case SampleWrite samples:
                    foreach (var s in samples.Samples)
                    {
                        batch.Samples.Add(s);
                        if (!_iterations.ContainsKey(s.Iteration))
                        {
                            batch.SampleIterations.Add(s.Iteration);
                        }

                        var totals = batch.IterationTotals.TryGetValue(s.Iteration, out var t) ? t : _iterationTotals.GetValueOrDefault(s.Iteration);
                        batch.IterationTotals[s.Iteration] = totals.Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
                        runTotals = runTotals.Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
                        if (s.LatencyMs is { } latency)
                        {
                            batch.Latency.Add(latency);
                        }
                    }

                    target = Wake(target, batch, "first write", "write resumed");
                    break;
                case IterationWrite iteration:
                    batch.Iterations.Add(iteration.Record);
                    target = Wake(target, batch, "first write", "write resumed");
                    break;
                case RunWrite change:
                    target = Apply(target, change, batch);
                    break;
            }
        }

        batch.RunTotals = runTotals;
        batch.Run = target with
        {
            SamplesEvaluated = runTotals.Evaluated,
            SamplesSuccessful = runTotals.Successful,
            SamplesFailed = runTotals.Failed,
            PromptTokens = runTotals.PromptTokens,
            CompletionTokens = runTotals.CompletionTokens,
            CostUsd = runTotals.CostUsd,
            AvgLatencyMs = runTotals.AvgLatencyMs,
            P50LatencyMs = batch.Latency.Percentile(0.50) ?? target.P50LatencyMs,
            P95LatencyMs = batch.Latency.Percentile(0.95) ?? target.P95LatencyMs,
            LastHeartbeatAt = lastHeartbeatAt ?? target.LastHeartbeatAt,
        };
        return batch;
    }

    /// <summary>Takes over what <paramref name="batch"/> of <paramref name="writes"/> wrote, once its transaction has committed.</summary>
    public void Apply(IngestBatch batch, IReadOnlyList<PendingWrite> writes)
    {
        foreach (var s in batch.Samples)
        {
            var key = Key(s.Iteration, s.SampleIndex);
            _keys.Add(key);
            _iterations.TryAdd(s.Iteration, new CommittedIteration { Iteration = s.Iteration, Kind = IterationKind.Minibatch });
        }

        foreach (var (iteration, totals) in batch.IterationTotals)
        {
            _iterationTotals[iteration] = totals;
        }

        foreach (var record in batch.Iterations)
        {
            var previous = _iterations.GetValueOrDefault(record.Iteration);
            _iterations[record.Iteration] = new CommittedIteration
            {
                Iteration = record.Iteration,
                Kind = record.Kind!.Value,
                Score = record.Score ?? previous?.Score,
            };
        }

        RunTotals = batch.RunTotals;
        _latency = batch.Latency;
        Release(writes);
    }

    /// <summary>The key of a sample: (iteration, sample index) in one number.</summary>
    public static long Key(int iteration, int sampleIndex) => ((long)iteration << 32) | (uint)sampleIndex;

    private static bool HasDetails(IterationRecord iteration) =>
        iteration.ParamsJson is not null || iteration.CandidateProgramJson is not null || iteration.MetadataJson is not null;

    // A write is a sign of life: it wakes a pending or stalled run.
    private static RunSnapshot Wake(RunSnapshot run, IngestBatch batch, string fromPending, string fromStalled)
    {
        if (run.Status is not (RunStatus.Pending or RunStatus.Stalled))
        {
            return run;
        }

        batch.StatusReason = run.Status == RunStatus.Pending ? fromPending : fromStalled;
        return run with { Status = RunStatus.Running };
    }

    private static RunSnapshot Apply(RunSnapshot run, RunWrite change, IngestBatch batch)
    {
        if (change.Update is { } u)
        {
            batch.PatchesRun = true;
            run = run with
            {
                RunName = u.RunName ?? run.RunName,
                Description = u.Description ?? run.Description,
                Tags = u.Tags ?? run.Tags,
                MetadataJson = u.MetadataJson ?? run.MetadataJson,
                ProgramName = u.ProgramName ?? run.ProgramName,
                DatasetName = u.DatasetName ?? run.DatasetName,
                MetricName = u.MetricName ?? run.MetricName,
                TaskModel = u.TaskModel ?? run.TaskModel,
                PromptModel = u.PromptModel ?? run.PromptModel,
                TotalIterations = u.TotalIterations ?? run.TotalIterations,
                BaselineScore = u.BaselineScore ?? run.BaselineScore,
            };
        }

        if (change.Progress is { } p)
        {
            batch.PatchesRun |= ChangesTotal(run, p);
            run = WithProgress(Wake(run, batch, "first heartbeat", "heartbeat resumed"), p);
        }

        if (change.Transition is { } t)
        {
            batch.PatchesRun = true;
            batch.StatusReason = change.Reason;
            run = run with
            {
                Status = t.Status,
                // Clients report phases while they work and rarely a last one: a completed run says it finished,
                // a failed or cancelled one keeps the phase it stopped in.
                Phase = t.Status == RunStatus.Completed ? "completed" : run.Phase,
                FinalScore = t.FinalScore ?? run.FinalScore,
                OptimizedProgramJson = t.OptimizedProgramJson ?? run.OptimizedProgramJson,
                ErrorMessage = t.ErrorMessage ?? run.ErrorMessage,
                ErrorDetailsJson = t.ErrorDetailsJson ?? run.ErrorDetailsJson,
            };
        }

        return run;
    }

    /// <summary>The run as <paramref name="progress"/> leaves it: the fields it names replaced, the current iteration never lowered.</summary>
    public static RunSnapshot WithProgress(RunSnapshot run, RunProgress progress) => run with
    {
        Phase = progress.Phase ?? run.Phase,
        Message = progress.Message ?? run.Message,
        CurrentIteration = Max(run.CurrentIteration, progress.CurrentIteration),
        TotalIterations = progress.TotalIterations ?? run.TotalIterations,
    };

    /// <summary>Two progress reports as one: the later one's fields where it names them, the higher current iteration.</summary>
    public static RunProgress Merge(RunProgress? earlier, RunProgress later) => earlier is null ? later : new RunProgress(
        later.Phase ?? earlier.Phase,
        Max(earlier.CurrentIteration, later.CurrentIteration),
        later.TotalIterations ?? earlier.TotalIterations,
        later.Message ?? earlier.Message);

    // The total is a patched column (the progress columns are written with every commit).
    private static bool ChangesTotal(RunSnapshot run, RunProgress progress) =>
        progress.TotalIterations is not null && progress.TotalIterations != run.TotalIterations;

    private static int? Max(int? a, int? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
}
