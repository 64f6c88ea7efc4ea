using Dapper;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>
/// One silo whose runs stall after 3 s without a sign of life. Only the stall tests use it: with a
/// window this short, a slow moment of a loaded machine would stall the runs of unrelated tests.
/// </summary>
public class QuickStallClusterFixture : ClusterFixture
{
    protected override short SiloCount => 1;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Runs:StallAfter"] = "00:00:03",
        ["Runs:StallCheckPeriod"] = "00:00:00.500",
    };
}

/// <summary>A silent run becomes stalled; a heartbeat or a write resumes it; both changes show in the stream.</summary>
public sealed class RunStallTests(QuickStallClusterFixture fixture) : IClassFixture<QuickStallClusterFixture>
{
    [Fact]
    public async Task ASilentRunStallsAndAHeartbeatResumesIt()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.ReportProgressAsync(new RunProgress("searching"));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await grain.GetAsync())!.Status != RunStatus.Stalled && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal(RunStatus.Stalled, (await grain.GetAsync())!.Status);
        Assert.Equal("stalled", (await RunScenario.ReadStoredAsync(runId)).Status);

        var resumed = await grain.ReportProgressAsync(new RunProgress("searching", Message: "back"));
        Assert.Equal(RunStatus.Running, resumed.Status);

        // Up to the resume: the run may rightly stall again while a slow machine reads the stream.
        Assert.Equal(["running", "stalled", "running"], await StatusEventsAsync(grain, upTo: resumed.LastEventId));
    }

    [Fact]
    public async Task AWriteResumesAStalledRun()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await grain.GetAsync())!.Status != RunStatus.Stalled && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        await grain.RecordSamplesAsync([RunScenario.Sample(0, 0)]);

        var resumed = (await grain.GetAsync())!;
        Assert.Equal(RunStatus.Running, resumed.Status);
        Assert.Equal("running", (await RunScenario.ReadStoredAsync(runId)).Status);
        Assert.Equal(["running", "stalled", "running"], await StatusEventsAsync(grain, upTo: resumed.LastEventId));
    }

    [Fact]
    public async Task AStalledRunDropsItsStallReminderAndTakesItBackWhenItResumes()
    {
        // The reminder wakes a running run to notice silence; a stalled run has nothing left to notice, and a
        // reminder every few minutes would keep every abandoned run's grain active, and activate it after every restart.
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        Assert.Equal(1, await StallRemindersAsync(runId, expected: 1)); // registered when the run started

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await grain.GetAsync())!.Status != RunStatus.Stalled && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal(RunStatus.Stalled, (await grain.GetAsync())!.Status);
        Assert.Equal(0, await StallRemindersAsync(runId, expected: 0));

        await grain.ReportProgressAsync(new RunProgress("searching", Message: "back"));
        Assert.Equal(1, await StallRemindersAsync(runId, expected: 1));
    }

    // The reminder follows a status change a moment after the change is answered: waits up to 10 s for the count.
    private static async Task<int> StallRemindersAsync(Guid runId, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var connection = await TestDatabase.OpenServiceAsync();
            var count = await connection.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM OrleansRemindersTable WHERE ReminderName = 'stall-watch' AND GrainId LIKE @grain", new { grain = $"%{runId:N}%" });
            if (count == expected || DateTime.UtcNow > deadline)
            {
                return count;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The statuses the run's event stream announced, from its start through event <paramref name="upTo"/>.</summary>
    private static async Task<List<string>> StatusEventsAsync(IRunGrain grain, long upTo)
    {
        var statuses = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var e in grain.WatchAsync(0).WithCancellation(timeout.Token))
        {
            if (e.Kind == RunEventKind.Status)
            {
                statuses.Add(System.Text.Json.JsonDocument.Parse(e.PayloadJson).RootElement.GetProperty("status").GetString()!);
            }

            if (e.Id >= upTo)
            {
                break;
            }
        }

        return statuses;
    }
}
