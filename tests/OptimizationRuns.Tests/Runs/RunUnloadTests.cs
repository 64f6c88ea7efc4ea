using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>
/// <see cref="QuickStallClusterFixture"/>'s silo, which also unloads a grain idle for 6 s (looking every second): what
/// production does in 15 minutes, fast enough to watch.
/// </summary>
public sealed class QuickUnloadClusterFixture : QuickStallClusterFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["GrainCollection:CollectionQuantum"] = "00:00:01",
        ["GrainCollection:CollectionAge"] = "00:00:06",
    };
}

/// <summary>
/// A run nobody calls leaves memory once it has ended or stalled: a fleet that abandons runs must not grow the silo
/// for ever. A running run stays (it watches for its own silence).
/// </summary>
public sealed class RunUnloadTests(QuickUnloadClusterFixture fixture) : IClassFixture<QuickUnloadClusterFixture>
{
    [Fact]
    public async Task ACompletedRunNobodyCallsUnloads()
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.RecordSamplesAsync([RunScenario.Sample(0, 0)]);
        await grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 1m));

        Assert.True(await UnloadsAsync(grain, within: TimeSpan.FromSeconds(40)), "the completed run is still in memory 40 s after its last call");
    }

    [Fact]
    public async Task AStalledRunNobodyCallsUnloads()
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.RecordSamplesAsync([RunScenario.Sample(0, 0)]);
        await grain.ReportProgressAsync(new RunProgress("searching"));

        // Asking would count as a call: the stored status tells when the run has stalled.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var runId = grain.GetPrimaryKey();
        while ((await RunScenario.ReadStoredAsync(runId)).Status != "stalled" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal("stalled", (await RunScenario.ReadStoredAsync(runId)).Status);
        var stalledAt = DateTime.UtcNow;
        Assert.True(await UnloadsAsync(grain, within: TimeSpan.FromSeconds(40)), "the stalled run is still in memory 40 s after it stalled");

        // Past the stall reminder's first tick (a minute after the run started): it must not bring the run back.
        await Task.Delay(stalledAt.AddSeconds(65) - DateTime.UtcNow);
        Assert.False(await IsActiveAsync(grain), "a reminder brought the stalled run back into memory");
        Assert.Equal(RunStatus.Stalled, (await grain.GetAsync())!.Status); // and comes back as it was when called
    }

    // Watches the silo's activations until the run is gone.
    private async Task<bool> UnloadsAsync(IRunGrain grain, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (!await IsActiveAsync(grain))
            {
                return true;
            }

            await Task.Delay(500);
        }

        return false;
    }

    // Asks the management grain, not the run: a call to the run would activate it.
    private async Task<bool> IsActiveAsync(IRunGrain grain)
    {
        var activations = await fixture.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics(types: null, hostsIds: null);
        return activations.Any(a => a.GrainId == grain.GetGrainId());
    }
}
