using System.Collections.Concurrent;
using System.Diagnostics;
using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>
/// The database commands a call sends, read from Npgsql's spans under a trace of the call's own. Orleans' spans and
/// ours are sampled too, so commands that a grain or its activation sends (their children) stay in that trace.
/// </summary>
public static class DatabaseCommands
{
    /// <summary>One command: its text and when Npgsql started and finished it.</summary>
    public sealed record Command(string Text, DateTime Start, DateTime End);

    /// <summary>What <paramref name="call"/> returns, and the commands sent under its trace, in the order they ended.</summary>
    public static async Task<(T Result, List<Command> Commands)> OfAsync<T>(Func<Task<T>> call)
    {
        using var trace = new Activity("database-commands").SetIdFormat(ActivityIdFormat.W3C).Start();
        var commands = new ConcurrentQueue<Command>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" or RunTelemetry.SourceName
                || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Parent.TraceId == trace.TraceId ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
            ActivityStopped = span =>
            {
                if (span.TraceId == trace.TraceId && (span.GetTagItem("db.query.text") ?? span.GetTagItem("db.statement")) is string text)
                {
                    commands.Enqueue(new Command(text, span.StartTimeUtc, span.StartTimeUtc + span.Duration));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var result = await call();
        return (result, [.. commands]);
    }
}
