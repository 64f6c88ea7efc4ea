using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace OptimizationRuns.Bench.Progress;

/// <summary>
/// The paced phases: every worker of every run reports on a fixed schedule (its own offset within the interval, so the
/// reports spread evenly), and the sample stream sends batches to the sample runs on a fixed schedule too. Latency is
/// counted from when a call was due, so a slow answer that delays the next call is counted, not hidden.
/// </summary>
public sealed class PacedLoad(ProgressApi api, ProgressOptions options, IReadOnlyList<Guid> runs)
{
    private readonly long[] _nextSampleBatch = new long[options.SampleRuns];

    /// <summary>Runs one phase of <paramref name="duration"/>: progress, samples, or both.</summary>
    public async Task<PhaseLoad> RunAsync(bool progress, bool samples, TimeSpan duration, CancellationToken cancellationToken)
    {
        var load = new PhaseLoad();
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tasks = new List<Task>();
        if (progress)
        {
            var workers = runs.Count * options.WorkersPerRun;
            var heartbeaters = (int)Math.Round(options.WorkersPerRun * options.HeartbeatShare);
            for (var r = 0; r < runs.Count; r++)
            {
                for (var w = 0; w < options.WorkersPerRun; w++)
                {
                    var offset = (r * options.WorkersPerRun + w) / (double)workers * options.IntervalSeconds;
                    tasks.Add(ProgressWorkerAsync(runs[r], w, bareHeartbeat: w < heartbeaters, start, offset, end, load, cancellationToken));
                }
            }
        }

        if (samples && options.SampleRuns > 0 && options.SamplesPerSecond > 0)
        {
            var perRunInterval = options.SampleRuns * options.Batch / options.SamplesPerSecond;
            for (var r = 0; r < options.SampleRuns; r++)
            {
                var offset = r / (double)options.SampleRuns * perRunInterval;
                tasks.Add(SampleWorkerAsync(r, start, offset, perRunInterval, end, load, cancellationToken));
            }
        }

        await Task.WhenAll(tasks);
        load.Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return load;
    }

    private async Task ProgressWorkerAsync(Guid runId, int worker, bool bareHeartbeat, long start, double offset, long end, PhaseLoad load, CancellationToken cancellationToken)
    {
        var step = 0;
        for (var due = start + Seconds(offset); Continues(due, end, cancellationToken); due += Seconds(options.IntervalSeconds))
        {
            await DelayUntilAsync(due, cancellationToken);
            step++;
            var body = bareHeartbeat ? "{}"u8.ToArray() : Encoding.UTF8.GetBytes(
                $$"""{"phase":"searching","currentIteration":{{step / 10}},"message":"worker {{worker}}: example {{step}} of the minibatch"}""");
            var sent = Stopwatch.GetTimestamp();
            var status = await CallAsync(() => api.ReportProgressAsync(runId, body, cancellationToken));
            load.Record(load.Progress, due, status);
            load.Record(load.ProgressService, sent, status);
        }
    }

    private async Task SampleWorkerAsync(int run, long start, double offset, double interval, long end, PhaseLoad load, CancellationToken cancellationToken)
    {
        for (var due = start + Seconds(offset); Continues(due, end, cancellationToken); due += Seconds(interval))
        {
            await DelayUntilAsync(due, cancellationToken);
            var batch = _nextSampleBatch[run]++;
            var status = await CallAsync(() => api.RecordSamplesAsync(runs[run], SampleBatch(batch), cancellationToken));
            load.Record(load.Samples, due, status);
            if (status == HttpStatusCode.OK)
            {
                Interlocked.Add(ref load.SamplesAcknowledged, options.Batch);
            }
        }
    }

    // Batch b of a run is iteration b / 20, sample indexes (b mod 20)·B …: unique within the run. ~490 bytes a sample.
    private byte[] SampleBatch(long batch)
    {
        var iteration = batch / 20;
        var first = batch % 20 * options.Batch;
        var text = new StringBuilder("""{"samples":[""");
        for (var j = 0; j < options.Batch; j++)
        {
            var index = first + j;
            text.Append(j == 0 ? "" : ",").Append($$"""
                {"iteration":{{iteration}},"sampleIndex":{{index}},"exampleId":"hotpotqa-dev-{{index:D5}}",
                "inputs":{"question":"Which county is the city that hosted the {{index}}th regional games in, and who founded it?","context":"The city lies on the river; its county was founded in the century after the war, and the games moved there later."},
                "expected":{"answer":"Example county, founded by the first settlers"},
                "prediction":{"reasoning":"The context names the county and the founders of the city.","answer":"Example county"},
                "score":{{(index % 3 == 0 ? "0.0" : "1.0")}},"success":true,"latencyMs":{{800 + index % 400}},"promptTokens":512,"completionTokens":64,
                "costUsd":0.0004,"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}
                """);
        }

        return Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }

    private static async Task<HttpStatusCode> CallAsync(Func<Task<HttpStatusCode>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return 0;
        }
    }

    // A call due before the end is sent, unless the end has passed already: a worker that fell behind its schedule
    // does not stretch the phase (what it did not send counts as a rate not reached).
    private static bool Continues(long due, long end, CancellationToken cancellationToken) =>
        due < end && Stopwatch.GetTimestamp() < end && !cancellationToken.IsCancellationRequested;

    private static long Seconds(double seconds) => (long)(seconds * Stopwatch.Frequency);

    private static async Task DelayUntilAsync(long due, CancellationToken cancellationToken)
    {
        var wait = due - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), cancellationToken);
        }
    }
}

/// <summary>What one phase's calls did: latencies from when each was due, and the answers that were not 200.</summary>
public sealed class PhaseLoad
{
    public ConcurrentQueue<double> Progress { get; } = new();

    /// <summary>Progress latencies from when each call was sent (the time in the HTTP client's queue, the gateway and the grain).</summary>
    public ConcurrentQueue<double> ProgressService { get; } = new();

    public ConcurrentQueue<double> Samples { get; } = new();

    public long SamplesAcknowledged;

    public ConcurrentDictionary<int, int> Failures { get; } = new();

    public double Seconds { get; set; }

    public void Record(ConcurrentQueue<double> latencies, long due, HttpStatusCode status)
    {
        if (status == HttpStatusCode.OK)
        {
            latencies.Enqueue(Stopwatch.GetElapsedTime(due).TotalMilliseconds);
        }
        else
        {
            Failures.AddOrUpdate((int)status, 1, (_, n) => n + 1);
        }
    }

    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}
