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
            var (run, commands) = await DatabaseCommands.OfAsync(() => RunScenario.Grain(fixture.Client, projectId, runId).GetAsync());

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
}
