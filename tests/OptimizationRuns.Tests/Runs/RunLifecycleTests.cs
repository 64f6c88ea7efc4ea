using Dapper;
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

    [Fact]
    public async Task ACompletedRunsPhaseSaysItFinishedAndAFailedOneKeepsWhereItStopped()
    {
        var (_, completedId, completed) = await RunScenario.StartRunAsync(fixture.Client);
        var (_, failedId, failed) = await RunScenario.StartRunAsync(fixture.Client);
        await completed.ReportProgressAsync(new RunProgress("searching", CurrentIteration: 18, Message: "trial 18/18"));
        await failed.ReportProgressAsync(new RunProgress("proposing"));

        await completed.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.5m));
        await failed.TransitionAsync(new RunTransition(RunStatus.Failed, ErrorMessage: "rate limited"));

        Assert.Equal("completed", (await completed.GetAsync())!.Phase);
        Assert.Equal("proposing", (await failed.GetAsync())!.Phase);
        await using var connection = await TestDatabase.OpenOwnerAsync();
        Assert.Equal("completed", await connection.ExecuteScalarAsync<string>("SELECT phase FROM optimization_runs WHERE id = @completedId", new { completedId }));
        Assert.Equal("proposing", await connection.ExecuteScalarAsync<string>("SELECT phase FROM optimization_runs WHERE id = @failedId", new { failedId }));
    }
}
