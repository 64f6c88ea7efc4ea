using Dapper;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>Two silos whose runs write progress within 0.1 s and look at their heartbeat's checkpoint every second.</summary>
public sealed class QuickCheckpointClusterFixture : ClusterFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Runs:ProgressWritePeriod"] = "00:00:00.100",
        ["Runs:CheckpointPeriod"] = "00:00:01",
    };
}

/// <summary>
/// What a run keeps beside its row (grain storage): the heartbeat of a run that sends nothing else, and no more; event
/// ids keep rising when its silo dies without a word.
/// </summary>
public sealed class RunCheckpointTests(QuickCheckpointClusterFixture fixture) : IClassFixture<QuickCheckpointClusterFixture>
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task ARunWhoseProgressIsWrittenCausesNoCheckpoint()
    {
        var (projectId, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        for (var i = 0; i < 30; i++)
        {
            await grain.ReportProgressAsync(new RunProgress("searching", CurrentIteration: i, Message: $"trial {i}"));
            await grain.ReportProgressAsync(new RunProgress());
            await Task.Delay(ReportEvery);
        }

        // Three checkpoint periods of reports: the run row carried every heartbeat, within a period of the newest.
        Assert.Equal(0, await CheckpointsAsync(projectId));
        // And the row has the newest progress within its write period.
        await using var database = await TestDatabase.OpenOwnerAsync();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        string? message;
        while ((message = await database.ExecuteScalarAsync<string>("SELECT message FROM optimization_runs WHERE id = @RunId",
                   new { RunId = grain.GetPrimaryKey() })) != "trial 29" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal("trial 29", message);
    }

    [Fact]
    public async Task ARunThatOnlySendsHeartbeatsHasThemCheckpointed()
    {
        var (projectId, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var started = DateTime.UtcNow;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(3.5))
        {
            await grain.ReportProgressAsync(new RunProgress());
            await Task.Delay(ReportEvery);
        }

        // One checkpoint a period at most (the timer looks once a second); the row was written only when the run started.
        var checkpoints = await CheckpointsAsync(projectId);
        Assert.InRange(checkpoints, 1, 4);
        var newest = (await grain.GetAsync())!.LastHeartbeatAt!.Value;
        await fixture.Cluster.DeactivateAsync(grain);
        var reactivated = (await grain.GetAsync())!.LastHeartbeatAt!.Value;
        Assert.Equal(newest, reactivated);
    }

    [Fact]
    public async Task AfterItsSiloDiesARunsEventsStillGetHigherIds()
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        long highest = 0;
        for (var i = 0; i < 20; i++)
        {
            highest = (await grain.ReportProgressAsync(new RunProgress("searching", CurrentIteration: i, Message: $"trial {i}"))).LastEventId;
        }

        // Killed at once: nothing since the run started was checkpointed, and no deactivation runs.
        var host = await fixture.HostOfAsync(grain);
        await fixture.Cluster.KillSiloAsync(fixture.Cluster.Silos.Single(s => s.SiloAddress.Equals(host)));
        var resumed = await grain.ReportProgressAsync(new RunProgress("searching", CurrentIteration: 20, Message: "after the crash"));

        Assert.NotEqual(host, await fixture.HostOfAsync(grain));
        Assert.True(resumed.LastEventId > highest,
            $"the moved run numbered its next event {resumed.LastEventId}, at or below {highest}, which a watcher already saw");
    }

    // Grain-storage writes of the project's run (its version counts them; no row: none).
    private static async Task<int> CheckpointsAsync(Guid projectId)
    {
        await using var database = await TestDatabase.OpenOwnerAsync();
        return await database.ExecuteScalarAsync<int?>(
            "SELECT max(version) FROM orleansstorage WHERE grainidextensionstring = @Project", new { Project = projectId.ToString() }) ?? 0;
    }
}
