using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Errors;
using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Grains.Runs;

// The write path: callers queue their writes and wait; one flush loop commits everything queued in one
// transaction (group commit) and then answers all of them. Nothing is acknowledged before its transaction has
// committed. A commit the database refuses for its data is retried write by write, so only the bad write fails.
public sealed partial class RunGrain
{
    private GroupCommitQueue _queue = null!;
    private readonly RunLedger _ledger = new();
    private List<PendingWrite>? _committing;
    private Task? _flushLoop;
    private Task? _ingestLoad;
    private bool _deleting;

    /// <inheritdoc />
    public async Task<IterationOutcome> RecordIterationAsync(IterationRecord iteration, CancellationToken cancellationToken = default)
    {
        RunRules.Validate(iteration);
        RequireWritable();
        await EnsureIngestStateAsync();
        RequireWritable();
        using var activity = StartActivity("run.record_iteration");
        activity?.SetTag(RunTelemetry.IterationTag, iteration.Iteration);
        var (outcome, resolved, inFlight) = _ledger.Judge(iteration);
        if (outcome == IterationOutcome.Duplicate)
        {
            // A retry of a write still in flight answers when that write has committed.
            if (inFlight is not null)
            {
                await inFlight.Done.Task;
            }

            return outcome;
        }

        await WriteAsync(new IterationWrite(resolved));
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

        var fresh = _ledger.Fresh(samples, out var waitsForInFlight);
        var result = new SampleBatchResult(samples.Count, fresh.Count, samples.Count - fresh.Count);
        activity?.SetTag(RunTelemetry.InsertedTag, result.Inserted).SetTag(RunTelemetry.DuplicatesTag, result.Duplicates);
        RunTelemetry.SampleDuplicates.Add(result.Duplicates);
        if (fresh.Count == 0 && !waitsForInFlight)
        {
            return result;
        }

        // An empty write still waits its turn: it answers after the in-flight rows it duplicates have committed.
        await WriteAsync(new SampleWrite(fresh));
        return result;
    }

    /// <summary>Queues the write and waits until its commit has succeeded (or throws why it did not).</summary>
    private async Task WriteAsync(PendingWrite write)
    {
        // Every commit writes the run's totals, so they must be known first.
        await EnsureIngestStateAsync();
        if (!_queue.TryEnqueue(write))
        {
            logger.LogWarning("Run {RunId} refuses {Count} samples: {Buffered} already wait for the database",
                _runId, write.SampleCount, _queue.BufferedSamples);
            RunTelemetry.OverloadRefusals.Add(1);
            Activity.Current?.SetStatus(ActivityStatusCode.Error, "overloaded");
            throw new RunOverloadedException(_options.RetryAfter);
        }

        _ledger.Reserve(write);
        RunTelemetry.BufferedSamples.Add(write.SampleCount);
        if (_flushLoop is null || _flushLoop.IsCompleted)
        {
            _flushLoop = FlushLoopAsync();
        }

        await write.Done.Task;
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
            var writes = _queue.TakeCommit(_options.MaxSamplesPerCommit);
            _committing = writes;
            try
            {
                await CommitAsync(writes);
            }
            catch (Exception ex) when (DatabaseFailures.IsTransient(ex) || IsOutOfDate(ex))
            {
                await FailAllAsync(writes, ex);
            }
            catch (Exception ex) when (writes.Count > 1)
            {
                // Something in this commit is refused for what it is: commit each write on its own, so only the
                // write that causes it fails.
                logger.LogWarning(ex, "Run {RunId}: a commit of {Writes} writes was refused; committing them one by one", _runId, writes.Count);
                await CommitEachAsync(writes);
            }
            catch (Exception ex)
            {
                Reject(writes, ex);
            }
            finally
            {
                _committing = null;
            }
        }
    }

    private async Task CommitEachAsync(List<PendingWrite> writes)
    {
        for (var i = 0; i < writes.Count; i++)
        {
            try
            {
                await CommitAsync([writes[i]]);
            }
            catch (Exception ex) when (DatabaseFailures.IsTransient(ex) || IsOutOfDate(ex))
            {
                await FailAllAsync(writes.Skip(i).ToList(), ex);
                return;
            }
            catch (Exception ex)
            {
                Reject([writes[i]], ex);
            }
        }
    }

    private async Task CommitAsync(List<PendingWrite> writes)
    {
        var run = RequireRun();
        if (writes.Any(w => w is SampleWrite or IterationWrite or RunWrite { Progress: not null }))
        {
            // A write is a sign of life, as a heartbeat is.
            _heartbeatAt = StoredNow();
        }

        // Every commit carries the progress accepted since the last one (RunGrain.Progress.cs).
        var (unsaved, progressVersion) = (_unsavedProgress, _progressVersion);
        var batch = _ledger.Plan(writes, run, _heartbeatAt, unsaved);
        using var activity = StartCommitActivity(writes, batch);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var committed = await ingest.CommitAsync(_projectId, _runId, batch, CancellationToken.None);
            RunTelemetry.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            RunTelemetry.CommitSamples.Record(batch.Samples.Count);
            RunTelemetry.SamplesCommitted.Add(batch.Samples.Count);
            RunTelemetry.IterationsCommitted.Add(batch.Iterations.Count);
            _ledger.Apply(batch, writes);
            _run = committed;
            CountStatus();
            ProgressCommitted(progressVersion);
            PublishCommitted(run, committed, batch);
            RunTelemetry.BufferedSamples.Add(-batch.Samples.Count);
            _queue.Complete(writes);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    // The database refused rows this activation did not know of (another activation wrote them): reload, then retries are judged right.
    private static bool IsOutOfDate(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, TableName: "optimization_samples" or "optimization_iterations" };

    // A failed commit stored none of its rows. Its callers, and those queued behind it (whose duplicates may point
    // at the failed rows), are told to retry after a pause; retrying is safe.
    private async Task FailAllAsync(List<PendingWrite> failed, Exception exception)
    {
        var all = failed.Concat(_queue.TakeAll()).ToList();
        logger.LogWarning(exception, "Run {RunId}: a commit failed and may succeed later; {Writes} writes are answered 'retry'", _runId, all.Count);
        _ledger.Release(all);
        RunTelemetry.BufferedSamples.Add(-all.Sum(w => w.SampleCount));
        _queue.Fail(all, new StorageUnavailableException(DatabaseFailures.RetryAfter,
            "The run's commit failed because the database is unavailable; nothing of this request was written. Retry after a pause."));
        if (IsOutOfDate(exception))
        {
            _ingestLoad = LoadIngestStateAsync(CancellationToken.None);
            await _ingestLoad;
        }
    }

    private void Reject(List<PendingWrite> writes, Exception exception)
    {
        logger.LogError(exception, "Run {RunId}: the database refused a write; it is answered as rejected", _runId);
        _ledger.Release(writes);
        RunTelemetry.BufferedSamples.Add(-writes.Sum(w => w.SampleCount));
        _queue.Fail(writes, exception is RunValidationException or RunConflictException ? exception : DatabaseFailures.ToGrainError(exception));
    }

    private Activity? StartActivity(string name, ActivityContext parent = default)
    {
        var activity = RunTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent);
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
        try
        {
            var (iterations, samples) = await runs.LoadIngestStateAsync(_projectId, _runId, cancellationToken);
            _ledger.Load(iterations, samples);
        }
        catch (Exception ex) when (DatabaseFailures.IsDatabaseFailure(ex))
        {
            throw DatabaseFailures.ToGrainError(ex);
        }
    }
}
