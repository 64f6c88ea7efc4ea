using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Grains.Runs;

// The write path: callers queue their rows and wait; one flush loop commits everything queued in
// one transaction (group commit) and then answers all of them. Nothing is acknowledged before
// its transaction has committed.
public sealed partial class RunGrain
{
    private readonly List<PendingWrite> _queue = [];
    private readonly HashSet<long> _pendingSampleKeys = [];
    private readonly Dictionary<int, (IterationRow Row, PendingWrite Write)> _pendingIterations = [];
    private Task? _flushLoop;
    private Task? _ingestLoad;
    private int _bufferedSamples;
    private bool _ending;

    // Committed state, loaded at activation; the grain is the run's only writer, so it stays exact.
    private HashSet<long> _sampleKeys = [];
    private Dictionary<int, IterationRow> _iterations = [];
    private Dictionary<int, SampleTotals> _iterationTotals = [];
    private SampleTotals _runTotals = new();
    private LatencyHistogram _latency = new();

    private sealed class PendingWrite
    {
        public IterationRecord? Iteration { get; init; }

        public List<SampleRecord> Samples { get; init; } = [];

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The caller's span: the commit that carries this write is its child (or links to it).</summary>
        public ActivityContext Caller { get; } = Activity.Current?.Context ?? default;

        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();
    }

    /// <inheritdoc />
    public async Task<IterationOutcome> RecordIterationAsync(IterationRecord iteration, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(iteration);
        RequireWritable();
        await EnsureIngestStateAsync();
        RequireWritable();
        using var activity = StartActivity("run.record_iteration");
        activity?.SetTag(RunTelemetry.IterationTag, iteration.Iteration);
        var kind = (iteration.Kind ?? IterationKind.Minibatch).ToName();
        var pending = _pendingIterations.TryGetValue(iteration.Iteration, out var p) ? p : default;
        var known = pending.Row ?? _iterations.GetValueOrDefault(iteration.Iteration);

        IterationOutcome outcome;
        if (known is null)
        {
            outcome = IterationOutcome.Inserted;
        }
        else if (known.Score is null)
        {
            // Recorded at its start, or created by its samples: this record completes it.
            outcome = iteration.Score is null && known.Kind == kind && pending.Write is not null
                ? IterationOutcome.Duplicate
                : IterationOutcome.Updated;
        }
        else if (iteration.Score is null || (iteration.Score == known.Score && kind == known.Kind))
        {
            // The same result again. With details (e.g. the chosen candidates, known only when the
            // optimizer finishes) it fills them in; bare, it is a retry and changes nothing.
            outcome = iteration.Score is not null && HasDetails(iteration) ? IterationOutcome.Updated : IterationOutcome.Duplicate;
        }
        else
        {
            throw new RunConflictException(
                $"Iteration {iteration.Iteration} is recorded with score {known.Score} ({known.Kind}); it cannot change to {iteration.Score} ({kind}).");
        }

        if (outcome == IterationOutcome.Duplicate)
        {
            // A retry of a write still in flight answers when that write has committed.
            if (pending.Write is not null)
            {
                await pending.Write.Done.Task;
            }

            return outcome;
        }

        var write = new PendingWrite { Iteration = iteration };
        _pendingIterations[iteration.Iteration] = (new IterationRow { Iteration = iteration.Iteration, Kind = kind, Score = iteration.Score }, write);
        await EnqueueAsync(write);
        return outcome;
    }

    /// <inheritdoc />
    public async Task<SampleBatchResult> RecordSamplesAsync(IReadOnlyList<SampleRecord> samples, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(samples);
        RequireWritable();
        await EnsureIngestStateAsync();
        RequireWritable();
        using var activity = StartActivity("run.record_samples");
        activity?.SetTag(RunTelemetry.BatchSizeTag, samples.Count);

        var fresh = new List<SampleRecord>(samples.Count);
        var batchKeys = new HashSet<long>(samples.Count);
        var waitForInFlight = false;
        foreach (var sample in samples)
        {
            var key = SampleKey(sample.Iteration, sample.SampleIndex);
            if (_sampleKeys.Contains(key) || !batchKeys.Add(key))
            {
                continue;
            }

            if (_pendingSampleKeys.Contains(key))
            {
                waitForInFlight = true;
                continue;
            }

            fresh.Add(sample);
        }

        var result = new SampleBatchResult(samples.Count, fresh.Count, samples.Count - fresh.Count);
        activity?.SetTag(RunTelemetry.InsertedTag, result.Inserted).SetTag(RunTelemetry.DuplicatesTag, result.Duplicates);
        RunTelemetry.SampleDuplicates.Add(result.Duplicates);
        if (fresh.Count == 0 && !waitForInFlight)
        {
            return result;
        }

        if (_bufferedSamples + fresh.Count > _options.MaxBufferedSamples)
        {
            logger.LogWarning("Run {RunId} refuses {Count} samples: {Buffered} already wait for the database",
                _runId, fresh.Count, _bufferedSamples);
            RunTelemetry.OverloadRefusals.Add(1);
            activity?.SetStatus(ActivityStatusCode.Error, "overloaded");
            throw new RunOverloadedException(_options.RetryAfter);
        }

        foreach (var sample in fresh)
        {
            _pendingSampleKeys.Add(SampleKey(sample.Iteration, sample.SampleIndex));
        }

        _bufferedSamples += fresh.Count;
        RunTelemetry.BufferedSamples.Add(fresh.Count);
        // An empty write still waits its turn: it answers after the in-flight rows it duplicates have committed.
        await EnqueueAsync(new PendingWrite { Samples = fresh });
        return result;
    }

    private static bool HasDetails(IterationRecord iteration) =>
        iteration.ParamsJson is not null || iteration.CandidateProgramJson is not null || iteration.MetadataJson is not null;

    private static long SampleKey(int iteration, int sampleIndex) => ((long)iteration << 32) | (uint)sampleIndex;

    private Task EnqueueAsync(PendingWrite write)
    {
        _queue.Add(write);
        if (_flushLoop is null || _flushLoop.IsCompleted)
        {
            _flushLoop = FlushLoopAsync();
        }

        return write.Done.Task;
    }

    /// <summary>Waits until everything queued so far has been committed (or failed).</summary>
    private async Task DrainAsync()
    {
        while (_flushLoop is { IsCompleted: false } loop)
        {
            await loop;
        }
    }

    private async Task FlushLoopAsync()
    {
        // Let the callers of this turn queue up first, so the first commit is a group too.
        await Task.Yield();
        while (_queue.Count > 0)
        {
            var writes = TakeNextCommit();
            var batch = BuildBatch(writes, out var iterationTotals, out var runTotals);
            var statusBefore = Status;
            using var activity = StartCommitActivity(writes, batch);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var derived = await ingest.CommitAsync(_projectId, _runId, batch, CancellationToken.None);
                RunTelemetry.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                RunTelemetry.CommitSamples.Record(batch.Samples.Count);
                RunTelemetry.SamplesCommitted.Add(batch.Samples.Count);
                RunTelemetry.IterationsCommitted.Add(batch.Iterations.Count);
                ApplyCommitted(writes, batch, iterationTotals, runTotals, derived, statusBefore);
                foreach (var write in writes)
                {
                    write.Done.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                await FailQueuedAsync(writes, ex);
            }
        }
    }

    private Activity? StartActivity(string name)
    {
        var activity = RunTelemetry.Source.StartActivity(name);
        activity?.SetTag(RunTelemetry.ProjectIdTag, _projectId).SetTag(RunTelemetry.RunIdTag, _runId);
        return activity;
    }

    // One commit serves many callers: it is a child of the first one's span and links to the others.
    private Activity? StartCommitActivity(List<PendingWrite> writes, IngestBatch batch)
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var write in writes)
        {
            RunTelemetry.CommitWait.Record(Stopwatch.GetElapsedTime(write.EnqueuedAt, now).TotalMilliseconds);
        }

        if (!RunTelemetry.Source.HasListeners())
        {
            return null;
        }

        var links = writes.Skip(1).Where(w => w.Caller != default).Select(w => new ActivityLink(w.Caller));
        var activity = RunTelemetry.Source.StartActivity("run.commit", ActivityKind.Internal, writes[0].Caller, links: links);
        activity?.SetTag(RunTelemetry.ProjectIdTag, _projectId).SetTag(RunTelemetry.RunIdTag, _runId)
            .SetTag(RunTelemetry.CommitSamplesTag, batch.Samples.Count).SetTag(RunTelemetry.CommitWritesTag, writes.Count)
            .SetTag(RunTelemetry.CommitWaitTag, Stopwatch.GetElapsedTime(writes[0].EnqueuedAt, now).TotalMilliseconds);
        return activity;
    }

    private List<PendingWrite> TakeNextCommit()
    {
        var writes = new List<PendingWrite>();
        var samples = 0;
        while (_queue.Count > 0 && (writes.Count == 0 || samples + _queue[0].Samples.Count <= _options.MaxSamplesPerCommit))
        {
            samples += _queue[0].Samples.Count;
            writes.Add(_queue[0]);
            _queue.RemoveAt(0);
        }

        return writes;
    }

    private IngestBatch BuildBatch(List<PendingWrite> writes, out Dictionary<int, SampleTotals> iterationTotals, out SampleTotals runTotals)
    {
        var batch = new IngestBatch
        {
            // A write is a sign of life: it wakes a pending or stalled run.
            Status = Status is RunStatus.Pending or RunStatus.Stalled ? RunStatus.Running : Status,
        };
        iterationTotals = [];
        runTotals = _runTotals;
        foreach (var write in writes)
        {
            if (write.Iteration is { } iteration)
            {
                batch.Iterations.Add(iteration);
            }

            foreach (var s in write.Samples)
            {
                batch.Samples.Add(s);
                if (!_iterations.ContainsKey(s.Iteration))
                {
                    batch.SampleIterations.Add(s.Iteration);
                }

                var totals = iterationTotals.GetValueOrDefault(s.Iteration) ?? _iterationTotals.GetValueOrDefault(s.Iteration) ?? new SampleTotals();
                iterationTotals[s.Iteration] = totals.Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
                runTotals = runTotals.Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
            }
        }

        foreach (var (iteration, totals) in iterationTotals)
        {
            batch.IterationTotals[iteration] = totals;
        }

        batch.RunTotals = runTotals;
        return batch;
    }

    private void ApplyCommitted(
        List<PendingWrite> writes, IngestBatch batch, Dictionary<int, SampleTotals> iterationTotals, SampleTotals runTotals,
        RunDerivedRow derived, RunStatus statusBefore)
    {
        var run = RequireRun();
        var bestBefore = (run.BestScore, run.BestIteration);

        foreach (var s in batch.Samples)
        {
            var key = SampleKey(s.Iteration, s.SampleIndex);
            _sampleKeys.Add(key);
            _pendingSampleKeys.Remove(key);
            if (s.LatencyMs is { } latency)
            {
                _latency.Add(latency);
            }

            _iterations.TryAdd(s.Iteration, new IterationRow { Iteration = s.Iteration, Kind = IterationKind.Minibatch.ToName() });
        }

        foreach (var (iteration, totals) in iterationTotals)
        {
            _iterationTotals[iteration] = totals;
        }

        _runTotals = runTotals;
        _bufferedSamples -= batch.Samples.Count;
        RunTelemetry.BufferedSamples.Add(-batch.Samples.Count);

        foreach (var write in writes)
        {
            if (write.Iteration is not { } record)
            {
                continue;
            }

            var previous = _iterations.GetValueOrDefault(record.Iteration);
            _iterations[record.Iteration] = new IterationRow
            {
                Iteration = record.Iteration,
                Kind = (record.Kind ?? IterationKind.Minibatch).ToName(),
                Score = record.Score ?? previous?.Score,
            };
            if (_pendingIterations.TryGetValue(record.Iteration, out var pending) && ReferenceEquals(pending.Write, write))
            {
                _pendingIterations.Remove(record.Iteration);
            }

            _events.Publish(RunEventKind.Iteration, new
            {
                iteration = record.Iteration,
                kind = (record.Kind ?? IterationKind.Minibatch).ToName(),
                score = record.Score,
            });
        }

        run.Status = derived.Status;
        run.BaselineScore = derived.BaselineScore;
        run.BestScore = derived.BestScore;
        run.BestMinibatchScore = derived.BestMinibatchScore;
        run.Improvement = derived.Improvement;
        run.ImprovementPct = derived.ImprovementPct;
        run.CompletedIterations = derived.CompletedIterations;
        run.CurrentIteration = derived.CurrentIteration;
        run.BestIteration = derived.BestIteration;
        run.StartTime = derived.StartTime;
        run.UpdatedAt = derived.UpdatedAt;
        run.SamplesEvaluated = runTotals.Evaluated;
        run.SamplesSuccessful = runTotals.Successful;
        run.SamplesFailed = runTotals.Failed;
        run.PromptTokens = runTotals.PromptTokens;
        run.CompletionTokens = runTotals.CompletionTokens;
        run.TotalTokens = runTotals.PromptTokens + runTotals.CompletionTokens;
        run.CostUsd = runTotals.CostUsd;
        run.AvgLatencyMs = runTotals.AvgLatencyMs;

        live.State.LastHeartbeatAt = DateTimeOffset.UtcNow;
        _liveDirty = true;

        if ((run.BestScore, run.BestIteration) != bestBefore)
        {
            _events.Publish(RunEventKind.BestScore, new { bestScore = run.BestScore, bestIteration = run.BestIteration });
        }

        if (Status != statusBefore)
        {
            PublishStatus(statusBefore, Status, statusBefore == RunStatus.Stalled ? "write resumed" : "first write");
            _ = FollowStatusAsync();
        }
    }

    // A failed commit stored none of its rows. Its callers, and those queued behind it (whose
    // duplicates may point at the failed rows), get a retryable error; retrying is safe.
    private async Task FailQueuedAsync(List<PendingWrite> failed, Exception exception)
    {
        logger.LogError(exception, "Run {RunId}: a commit of {Writes} writes failed; {Queued} queued writes fail with it",
            _runId, failed.Count, _queue.Count);
        var all = failed.Concat(_queue).ToList();
        _queue.Clear();
        _pendingSampleKeys.Clear();
        _pendingIterations.Clear();
        RunTelemetry.BufferedSamples.Add(-_bufferedSamples);
        _bufferedSamples = 0;

        var error = new RunOverloadedException(_options.RetryAfter);
        foreach (var write in all)
        {
            write.Done.TrySetException(error);
        }

        if (exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // The database holds rows this activation did not know of: learn them before the retries arrive.
            _ingestLoad = LoadIngestStateAsync(CancellationToken.None);
            await _ingestLoad;
        }
    }

    private bool IngestLoaded => _ingestLoad is { IsCompletedSuccessfully: true };

    // Concurrent first writes share one load; a failed load is tried again by the next write.
    private Task EnsureIngestStateAsync()
    {
        if (_ingestLoad is null || _ingestLoad.IsFaulted || _ingestLoad.IsCanceled)
        {
            _ingestLoad = LoadIngestStateAsync(CancellationToken.None);
        }

        return _ingestLoad;
    }

    private async Task LoadIngestStateAsync(CancellationToken cancellationToken)
    {
        var (iterations, samples) = await runs.LoadIngestStateAsync(_projectId, _runId, cancellationToken);
        ResetIngestState(iterations, samples);
    }

    private void ResetIngestState(IReadOnlyList<IterationRow> iterations, IReadOnlyList<SampleStatRow> samples)
    {
        var keys = new HashSet<long>(samples.Count);
        var iterationTotals = new Dictionary<int, SampleTotals>();
        var runTotals = new SampleTotals();
        var latency = new LatencyHistogram();
        foreach (var s in samples)
        {
            keys.Add(SampleKey(s.Iteration, s.SampleIndex));
            var totals = iterationTotals.GetValueOrDefault(s.Iteration) ?? new SampleTotals();
            iterationTotals[s.Iteration] = totals.Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
            runTotals = runTotals.Add(s.Success, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.LatencyMs);
            if (s.LatencyMs is { } ms)
            {
                latency.Add(ms);
            }
        }

        _sampleKeys = keys;
        _iterations = iterations.ToDictionary(i => i.Iteration);
        _iterationTotals = iterationTotals;
        _runTotals = runTotals;
        _latency = latency;
    }
}
