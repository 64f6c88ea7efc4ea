using System.Text.Json;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// A run's recent live events, numbered in order, and a signal for watchers waiting on the next one.
/// Keeps the newest <c>capacity</c> events; older ones are gone for reconnecting watchers.
/// </summary>
public sealed class RunEventLog(long lastId, int capacity)
{
    /// <summary>
    /// Where an activation numbers its events from: after the checkpointed id, and after the clock in microseconds.
    /// </summary>
    /// <remarks>
    /// A watcher that reconnects with <c>Last-Event-ID</c> must be sent every newer event, so ids have to keep rising
    /// across activations, also when a silo dies (kill -9) after events it never checkpointed. An activation issues
    /// one id per event, far fewer than one per microsecond of its life, so the clock at the next activation is past
    /// every id the previous one gave out — provided the silos' clocks agree to within the seconds a dead silo's run
    /// takes to move. The checkpoint keeps ids rising where a clock is behind. Ids stay below 2^53 (JavaScript's exact
    /// integers) until the year 2255.
    /// </remarks>
    public static long FirstIdAfter(long checkpointed, DateTimeOffset now) =>
        Math.Max(checkpointed, (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);

    // Enum values as the REST contract spells them (best_score, minibatch, running).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly Queue<RunEvent> _events = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long LastId { get; private set; } = lastId;

    public RunEvent Publish(RunEventKind kind, object payload)
    {
        var runEvent = new RunEvent(++LastId, kind, DateTimeOffset.UtcNow, JsonSerializer.Serialize(payload, Json));
        _events.Enqueue(runEvent);
        while (_events.Count > capacity)
        {
            _events.Dequeue();
        }

        var next = _next;
        _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        next.TrySetResult();
        return runEvent;
    }

    /// <summary>The held events newer than <paramref name="afterId"/>, oldest first.</summary>
    public IReadOnlyList<RunEvent> After(long afterId) => _events.Where(e => e.Id > afterId).ToList();

    /// <summary>Completes when the next event is published (or on cancellation, or after <paramref name="timeout"/>).</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _next.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // A periodic wake lets an abandoned watcher notice that nobody is listening.
        }
    }
}
