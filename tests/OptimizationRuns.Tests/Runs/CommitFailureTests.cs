using OptimizationRuns.Grains.Errors;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>
/// A write the database refuses for its data fails on its own, with an error that says so (not "overloaded, retry"),
/// and the writes committed beside it are stored.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CommitFailureTests(ClusterFixture fixture)
{
    // cost_usd is numeric(14,6); the rules ask only for a cost of 0 or more, so the database is the one to refuse it.
    private static SampleRecord Unstorable(int iteration, int index) =>
        RunScenario.Sample(iteration, index) with { CostUsd = 1_000_000_000m };

    [Fact]
    public async Task ARefusedBatchFailsAloneAndTheBatchesBesideItAreCommitted()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.RecordSamplesAsync([RunScenario.Sample(0, 0)]);

        // Sent together, so they share a commit when they arrive in one turn.
        var before = grain.RecordSamplesAsync(Enumerable.Range(1, 50).Select(i => RunScenario.Sample(0, i)).ToList());
        var bad = grain.RecordSamplesAsync([RunScenario.Sample(1, 0), Unstorable(1, 1)]);
        var after = grain.RecordSamplesAsync(Enumerable.Range(0, 30).Select(i => RunScenario.Sample(2, i)).ToList());
        var iteration = grain.RecordIterationAsync(new IterationRecord(2, IterationKind.Full, 0.8m));

        Assert.Equal(50, (await before).Inserted);
        var refused = await Assert.ThrowsAsync<WriteRejectedException>(() => bad);
        Assert.Contains("refused", refused.Message);
        Assert.Equal(30, (await after).Inserted);
        Assert.Equal(IterationOutcome.Inserted, await iteration);

        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal(81, stored.SampleRows);
        Assert.Equal(81, stored.SamplesEvaluated);
        Assert.Equal(0.8m, stored.BestScore);
        var run = await grain.GetAsync();
        Assert.Equal(81, run!.SamplesEvaluated);
        Assert.Equal(0, run.BufferedSamples);
    }

    [Fact]
    public async Task ARefusedBatchCanBeSentAgainCorrectedAndNothingOfItWasStored()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);

        await Assert.ThrowsAsync<WriteRejectedException>(() => grain.RecordSamplesAsync([RunScenario.Sample(0, 0), Unstorable(0, 1)]));
        Assert.Equal(0, (await RunScenario.ReadStoredAsync(runId)).SampleRows);

        var corrected = await grain.RecordSamplesAsync([RunScenario.Sample(0, 0), RunScenario.Sample(0, 1)]);
        Assert.Equal(2, corrected.Inserted);
        Assert.Equal(2, (await RunScenario.ReadStoredAsync(runId)).SamplesEvaluated);
    }
}
