using System.Diagnostics;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>What one round measured, and whether the database agrees with what was acknowledged.</summary>
public sealed record RoundResult(
    string Kind, string Label, bool Measured, long Rows, double Seconds,
    double? P50Ms = null, double? P95Ms = null, double? P99Ms = null, double? MaxMs = null,
    double? IterationP99Ms = null, int Iterations = 0, long Overloaded = 0,
    long DatabaseRows = 0, long RunTotals = 0, bool Verified = false, string? Problem = null, CpuUse? Cpu = null)
{
    public double RowsPerSecond => Rows / Seconds;
}

/// <summary>The shape both kinds of round share: runs, their workers, and the batches each worker sends.</summary>
public abstract class Round(BenchOptions options, Workload workload, CpuMeter cpu)
{
    protected CpuMeter Cpu { get; } = cpu;

    protected BenchOptions Options { get; } = options;

    protected Workload Workload { get; } = workload;

    /// <summary>How many workers write run <paramref name="run"/> (workers are dealt to the runs round-robin).</summary>
    protected int WorkersOf(int run) => Options.Workers / Options.Runs + (run < Options.Workers % Options.Runs ? 1 : 0);

    protected static Guid[] NewRunIds(int count) => Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();

    protected static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    public abstract Task<RoundResult> RunAsync(string label, bool measured, int batches, TimeSpan? duration, CancellationToken cancellationToken);
}

/// <summary>
/// Optimizer workers writing into the run grains of a real silo: through the Orleans client, or (with an
/// HTTP writer) as JSON through the gateway. <paramref name="kind"/> names the round in the report.
/// </summary>
public sealed class GrainRound(
    string kind, Func<Guid, IRunWriter> writerFor, OwnerDatabase database, BenchOptions options, Workload workload, CpuMeter cpu,
    Func<Guid, Guid>? storedIdOf = null)
    : Round(options, workload, cpu)
{
    private const int MaxAttempts = 200;

    public override Task<RoundResult> RunAsync(string label, bool measured, int batches, TimeSpan? duration, CancellationToken cancellationToken) =>
        RunAsync(label, measured, batches, duration, offeredRate: null, cancellationToken);

    /// <summary>
    /// A round; with <paramref name="offeredRate"/> (samples/s over all workers) each worker sends on a fixed schedule
    /// instead of as fast as it is answered, and a call's latency counts from when it was due (no coordinated omission).
    /// </summary>
    public async Task<RoundResult> RunAsync(
        string label, bool measured, int batches, TimeSpan? duration, double? offeredRate, CancellationToken cancellationToken)
    {
        var runIds = NewRunIds(Options.Runs);
        var seeds = runIds.Select(Workload.Seed).ToArray();
        var interval = offeredRate is { } rate ? TimeSpan.FromSeconds(Options.Workers * (double)Options.Batch / rate) : TimeSpan.Zero;
        var grains = runIds.Select(writerFor).ToArray();

        var latencies = new List<double>[Options.Workers];
        var iterationLatencies = new List<double>[Options.Workers];
        long inserted = 0, duplicates = 0, overloaded = 0;
        // A cold silo may answer a run's first call "overloaded" (the gateway's call deadline): start it again, as a client would.
        await Task.WhenAll(grains.Select((grain, r) => WithRetriesAsync(async () =>
        {
            await grain.StartAsync($"bench-{label}-{r}", cancellationToken);
            return 0;
        })));
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0L;
        await using var meter = new ProgressMeter(label);

        async Task WorkerAsync(int w)
        {
            var (run, worker) = (w % Options.Runs, w / Options.Runs);
            var grain = grains[run];
            var acks = latencies[w] = new List<double>(Math.Min(batches, 10_000));
            var iterationAcks = iterationLatencies[w] = [];
            await go.Task;
            // Paced workers start spread over one interval, so their calls do not arrive in bursts.
            var due = started + (long)(interval.TotalSeconds * Stopwatch.Frequency * w / Options.Workers);
            for (var b = 0; duration is { } d ? Stopwatch.GetElapsedTime(started) < d : b < batches; b++)
            {
                var samples = Workload.Samples(seeds[run], worker, b);
                var t0 = Stopwatch.GetTimestamp();
                if (interval > TimeSpan.Zero)
                {
                    if (due > t0)
                    {
                        await Task.Delay(Stopwatch.GetElapsedTime(t0, due), cancellationToken);
                    }

                    t0 = due;
                    due += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                }

                var result = await WithRetriesAsync(() => grain.RecordSamplesAsync(samples, cancellationToken));
                acks.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                Interlocked.Add(ref inserted, result.Inserted);
                Interlocked.Add(ref duplicates, result.Duplicates);
                meter.Add(result.Inserted);

                if (worker == 0 && Workload.ClosesIteration(b))
                {
                    var record = Workload.Iteration(seeds[run], Workload.IterationOf(b), WorkersOf(run));
                    var t1 = Stopwatch.GetTimestamp();
                    await WithRetriesAsync(async () => { await grain.RecordIterationAsync(record, cancellationToken); return 0; });
                    iterationAcks.Add(Stopwatch.GetElapsedTime(t1).TotalMilliseconds);
                }
            }
        }

        // A worker that is told "overloaded" waits as told and sends the same batch again, as a client would.
        async Task<T> WithRetriesAsync<T>(Func<Task<T>> call)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await call();
                }
                catch (RunOverloadedException e) when (attempt < MaxAttempts)
                {
                    Interlocked.Increment(ref overloaded);
                    await Task.Delay(e.RetryAfter, cancellationToken);
                }
            }
        }

        var workers = Enumerable.Range(0, Options.Workers).Select(w => Task.Run(() => WorkerAsync(w), cancellationToken)).ToArray();
        var cpuBefore = await Cpu.SampleAsync(cancellationToken);
        started = Stopwatch.GetTimestamp();
        meter.Start();
        go.SetResult();
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuUse = (await Cpu.SampleAsync(cancellationToken)).Since(cpuBefore);
        await meter.StopAsync();

        // Ending the runs (after the clock) lets their grains stop their timers; everything is acknowledged already.
        await Task.WhenAll(grains.Select(g => g.CompleteAsync(cancellationToken)));
        var (rows, runTotals) = await database.CountAsync(storedIdOf is null ? runIds : runIds.Select(storedIdOf).ToArray(), cancellationToken);

        var all = latencies.SelectMany(l => l).Order().ToList();
        var iterations = iterationLatencies.SelectMany(l => l).Order().ToList();
        var expected = duration is null ? (long)Options.Workers * batches * Options.Batch : inserted;
        string? problem = null;
        if (rows != inserted || inserted != expected || duplicates != 0 || runTotals != rows)
        {
            problem = $"database holds {rows} rows, runs count {runTotals}; acknowledged {inserted} inserted, {duplicates} duplicates; expected {expected}";
        }

        return new RoundResult(kind, label, measured, inserted, seconds,
            Percentile(all, 0.50), Percentile(all, 0.95), Percentile(all, 0.99), all.Count > 0 ? all[^1] : null,
            iterations.Count > 0 ? Percentile(iterations, 0.99) : null, iterations.Count, overloaded,
            rows, runTotals, problem is null, problem, cpuUse);
    }
}

/// <summary>The ceiling: the same rows binary-COPYed straight into optimization_samples, one connection, as the owner.</summary>
public sealed class RawCopyRound(OwnerDatabase database, Guid projectId, BenchOptions options, Workload workload, CpuMeter cpu)
    : Round(options, workload, cpu)
{
    // An upper bound on the raw rate, to create enough iteration rows (the foreign key) for a timed round.
    private const double MaxRowsPerSecond = 400_000;

    public IReadOnlyList<Guid> LastRunIds { get; private set; } = [];

    public override async Task<RoundResult> RunAsync(string label, bool measured, int batches, TimeSpan? duration, CancellationToken cancellationToken)
    {
        var runIds = NewRunIds(Options.Runs);
        var seeds = runIds.Select(Workload.Seed).ToArray();
        var maxBatches = duration is { } d
            ? (int)Math.Ceiling(d.TotalSeconds * MaxRowsPerSecond / ((double)Options.Workers * Options.Batch)) + 1
            : batches;
        await database.CreateRawRunsAsync(projectId, runIds, Workload.IterationOf(maxBatches - 1), cancellationToken);
        LastRunIds = runIds;

        await using var meter = new ProgressMeter(label);
        long written = 0;
        var cpuBefore = await Cpu.SampleAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        meter.Start();
        await using (var copy = await database.BeginCopyAsync(projectId, cancellationToken))
        {
            // The order the workers' batches arrive in: batch by batch, run by run, worker by worker.
            for (var b = 0; b < maxBatches && (duration is not { } limit || Stopwatch.GetElapsedTime(started) < limit); b++)
            {
                for (var run = 0; run < Options.Runs; run++)
                {
                    for (var worker = 0; worker < WorkersOf(run); worker++)
                    {
                        foreach (var sample in Workload.Samples(seeds[run], worker, b))
                        {
                            await copy.WriteAsync(runIds[run], sample, cancellationToken);
                        }

                        written += Options.Batch;
                        meter.Add(Options.Batch);
                    }
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuUse = (await Cpu.SampleAsync(cancellationToken)).Since(cpuBefore);
        await meter.StopAsync();
        var (rows, _) = await database.CountAsync(runIds, cancellationToken);
        var problem = rows == written ? null : $"database holds {rows} rows; {written} were written";
        return new RoundResult("raw", label, measured, written, seconds, DatabaseRows: rows, Verified: problem is null, Problem: problem, Cpu: cpuUse);
    }
}

/// <summary>Prints how a round is going every two seconds.</summary>
public sealed class ProgressMeter(string label) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private long _rows;
    private Task _printer = Task.CompletedTask;

    public void Add(long rows) => Interlocked.Add(ref _rows, rows);

    public void Start() => _printer = PrintAsync();

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _printer;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task PrintAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var (lastRows, lastAt) = (0L, started);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var (rows, now) = (Interlocked.Read(ref _rows), Stopwatch.GetTimestamp());
                var rate = (rows - lastRows) / Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds;
                Console.WriteLine($"  {label,-12} {Stopwatch.GetElapsedTime(started, now).TotalSeconds,5:0.0} s {rows,10:N0} rows  {rate,9:N0} rows/s");
                (lastRows, lastAt) = (rows, now);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
