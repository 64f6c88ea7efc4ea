using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

[Collection(ClusterCollection.Name)]
public sealed class RunLifecycleTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ARecordedRunIsCommittedAndAnsweredLive()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);

        Assert.Equal(IterationOutcome.Inserted, await grain.RecordIterationAsync(new IterationRecord(0, IterationKind.Baseline)));
        var result = await grain.RecordSamplesAsync([RunScenario.Sample(0, 0), RunScenario.Sample(0, 1, success: false)]);
        Assert.Equal(new SampleBatchResult(2, 2, 0), result);
        Assert.Equal(IterationOutcome.Updated, await grain.RecordIterationAsync(new IterationRecord(0, IterationKind.Baseline, Score: 0.5m)));

        var snapshot = await grain.GetAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(RunStatus.Running, snapshot.Status);
        Assert.Equal(2, snapshot.SamplesEvaluated);
        Assert.Equal(1, snapshot.SamplesFailed);
        Assert.Equal(0.5m, snapshot.BestScore);
        Assert.Equal(0, snapshot.BestIteration);

        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal(2, stored.SampleRows);
        Assert.Equal(2, stored.SamplesEvaluated);
        Assert.Equal(0.5m, stored.BestScore);
    }
}
