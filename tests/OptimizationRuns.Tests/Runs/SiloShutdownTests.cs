using Dapper;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>A silo that shuts down commits what its runs have queued, then the runs carry on elsewhere.</summary>
public sealed class SiloShutdownTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task StoppingASiloCommitsQueuedWritesAndTheRunMovesOn()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.ReportProgressAsync(new RunProgress("searching", Message: "before shutdown"));
        var hostAddress = await fixture.HostOfAsync(grain);
        var host = fixture.Cluster.Silos.Single(s => s.SiloAddress.Equals(hostAddress));

        await using var locker = await TestDatabase.OpenOwnerAsync();
        await using var pause = await locker.BeginTransactionAsync();
        await locker.ExecuteAsync("LOCK TABLE optimization_samples IN EXCLUSIVE MODE", transaction: pause);
        var queued = Enumerable.Range(0, 5)
            .Select(b => grain.RecordSamplesAsync(Enumerable.Range(0, 20).Select(k => RunScenario.Sample(2, b * 20 + k)).ToList()))
            .ToList();
        await Task.Delay(300);

        var stopping = fixture.Cluster.StopSiloAsync(host);
        await Task.Delay(500);
        await pause.CommitAsync();
        await stopping;

        var results = await Task.WhenAll(queued);
        Assert.Equal(100, results.Sum(r => r.Inserted));
        Assert.Equal(100, (await RunScenario.ReadStoredAsync(runId)).SampleRows);
        var moved = (await grain.GetAsync())!;
        Assert.Equal(100, moved.SamplesEvaluated);
        Assert.Equal("before shutdown", moved.Message);
    }
}
