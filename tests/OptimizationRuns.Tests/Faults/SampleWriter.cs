using System.Diagnostics;
using System.Net;
using OptimizationRuns.Tests.Gateway;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// An ingesting worker: sends batches of samples to its run one after another, and a batch answered 503 again
/// after a short pause until it is acknowledged, as the Python client does. It records what was acknowledged and
/// every answer that was neither an acknowledgement nor a proper 503 (with Retry-After), when each acknowledgement
/// came and the longest any one request waited for its answer. Several writers may share a run when each starts at
/// its own <paramref name="firstIteration"/>.
/// </summary>
public sealed class SampleWriter(HttpClient client, Guid runId, int firstIteration = 1)
{
    public const int BatchSize = 20;
    private const int BatchesPerIteration = 5;
    private readonly List<(int Iteration, int SampleIndex)> _acknowledged = [];
    private readonly List<string> _unexpected = [];
    private readonly List<long> _acknowledgedAt = [];
    private long _longestWaitTicks;
    private long _sentAt;
    private int _unavailable;
    private int _batches;

    public Guid RunId { get; } = runId;

    /// <summary>Acknowledged batches so far.</summary>
    public int Batches => Volatile.Read(ref _batches);

    /// <summary>503 answers so far.</summary>
    public int Unavailable => Volatile.Read(ref _unavailable);

    public IReadOnlyList<(int Iteration, int SampleIndex)> Acknowledged
    {
        get
        {
            lock (_acknowledged)
            {
                return [.. _acknowledged];
            }
        }
    }

    /// <summary>The longest time one request waited for its answer (whatever the answer), the one in flight included.</summary>
    public TimeSpan LongestWait
    {
        get
        {
            var sentAt = Interlocked.Read(ref _sentAt);
            var inFlight = sentAt == 0 ? 0 : Stopwatch.GetTimestamp() - sentAt;
            return Stopwatch.GetElapsedTime(0, Math.Max(inFlight, Interlocked.Read(ref _longestWaitTicks)));
        }
    }

    /// <summary>The first acknowledgement at or after <paramref name="timestamp"/> (a <see cref="Stopwatch"/> timestamp), if any.</summary>
    public long? FirstAcknowledgedAfter(long timestamp)
    {
        lock (_acknowledged)
        {
            return _acknowledgedAt.Where(t => t >= timestamp).Select(t => (long?)t).FirstOrDefault();
        }
    }

    public IReadOnlyList<string> Unexpected
    {
        get
        {
            lock (_unexpected)
            {
                return [.. _unexpected];
            }
        }
    }

    /// <summary>Writes until <paramref name="stop"/> is cancelled, then ends after the batch in hand is acknowledged.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        for (var batch = 0; !stop.IsCancellationRequested; batch++)
        {
            var iteration = firstIteration + batch / BatchesPerIteration;
            var from = batch % BatchesPerIteration * BatchSize;
            await SendUntilAcknowledgedAsync(iteration, from);
            lock (_acknowledged)
            {
                _acknowledged.AddRange(Enumerable.Range(from, BatchSize).Select(i => (iteration, i)));
                _acknowledgedAt.Add(Stopwatch.GetTimestamp());
            }

            Interlocked.Increment(ref _batches);
            // Keeps the volume modest; the outage, not the load, is under test.
            await Task.Delay(20, CancellationToken.None);
        }
    }

    private async Task SendUntilAcknowledgedAsync(int iteration, int from)
    {
        for (var attempt = 1; ; attempt++)
        {
            var sent = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _sentAt, sent);
            try
            {
                using var response = await client.PostJsonAsync($"/api/optimization/runs/{RunId}/samples", HttpJson.Samples(iteration, from, BatchSize));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1))
                {
                    Interlocked.Increment(ref _unavailable);
                }
                else
                {
                    Record($"batch ({iteration}, {from}) attempt {attempt}: {(int)response.StatusCode} Retry-After={response.Headers.RetryAfter} {body}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Record($"batch ({iteration}, {from}) attempt {attempt}: {ex.GetType().Name} {ex.Message}");
            }
            finally
            {
                Interlocked.Exchange(ref _sentAt, 0);
                RecordWait(Stopwatch.GetTimestamp() - sent);
            }

            if (attempt >= 600)
            {
                throw new InvalidOperationException($"Run {RunId}: batch ({iteration}, {from}) was never acknowledged.");
            }

            // Shorter than Retry-After on purpose: pressure on the outage, as many impatient workers put it.
            await Task.Delay(100);
        }
    }

    private void RecordWait(long ticks)
    {
        for (var longest = Interlocked.Read(ref _longestWaitTicks); ticks > longest; longest = Interlocked.Read(ref _longestWaitTicks))
        {
            if (Interlocked.CompareExchange(ref _longestWaitTicks, ticks, longest) == longest)
            {
                return;
            }
        }
    }

    private void Record(string what)
    {
        lock (_unexpected)
        {
            _unexpected.Add(what);
        }
    }
}
