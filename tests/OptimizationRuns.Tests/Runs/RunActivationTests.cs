using System.Collections.Concurrent;
using System.Diagnostics;
using OptimizationRuns.Grains.Telemetry;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>
/// A run nobody has called since the silo started (a finished run opened in the dashboard) answers after one
/// database round trip of its activation, not two: the run row is read while Orleans reads the live state, and
/// the read stays in the trace of the call that activated the run (only commands under that trace are looked at).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RunActivationTests(ClusterFixture fixture)
{
    // Each activation is of a new run; the first few warm both silos' connection pools (a new physical connection
    // takes longer than the other read). Sequential reads never overlap, so one overlap of five tells them apart, and
    // a slow machine that delays one read of a warm pool past the other's answer does not fail the test.
    [Fact]
    public async Task AnActivationReadsTheRunRowWhileOrleansReadsTheLiveState()
    {
        var projectId = await TestDatabase.CreateProjectAsync();
        for (var i = 0; i < 6; i++)
        {
            Assert.NotNull(await RunScenario.Grain(fixture.Client, projectId, await TestDatabase.CreateRunAsync(projectId)).GetAsync());
        }

        var seen = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var runId = await TestDatabase.CreateRunAsync(projectId);
            var (run, commands) = await WithCommandsAsync(() => RunScenario.Grain(fixture.Client, projectId, runId).GetAsync());

            Assert.Equal(runId, run?.Id);
            var state = Assert.Single(commands, c => c.Text.Contains("OrleansStorage", StringComparison.Ordinal));
            var row = Assert.Single(commands, c => c.Text.Contains("FROM optimization_runs WHERE id", StringComparison.Ordinal));
            if (row.Start < state.End && state.Start < row.End)
            {
                return;
            }

            seen.Add($"the run row from {row.Start:HH:mm:ss.ffffff} to {row.End:HH:mm:ss.ffffff}, the live state from {state.Start:HH:mm:ss.ffffff} to {state.End:HH:mm:ss.ffffff}");
        }

        Assert.Fail("five activations read the run row and the live state one after the other:\n" + string.Join("\n", seen));
    }

    private sealed record Command(string Text, DateTime Start, DateTime End);

    /// <summary>What <paramref name="call"/> returns, and the database commands sent under its trace (Npgsql's spans).</summary>
    private static async Task<(T Result, List<Command> Commands)> WithCommandsAsync<T>(Func<Task<T>> call)
    {
        using var trace = new Activity("run-activation").SetIdFormat(ActivityIdFormat.W3C).Start();
        var commands = new ConcurrentQueue<Command>();
        using var listener = new ActivityListener
        {
            // Orleans' spans and ours too: the activation's commands are their children, under the call's trace.
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
