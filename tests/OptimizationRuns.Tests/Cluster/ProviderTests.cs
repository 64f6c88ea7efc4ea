using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Cluster;

/// <summary>Our own SQL for Orleans' ADO.NET providers, proven with the real providers end to end.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ProviderTests(ClusterFixture fixture)
{
    [Fact]
    public async Task GrainStateIsWrittenAndReadBackAfterDeactivation()
    {
        var key = Guid.NewGuid().ToString();
        var grain = fixture.Client.GetGrain<IProbeGrain>(key);
        await grain.SetAsync("checkpointed");

        await fixture.Cluster.DeactivateAsync(grain);

        Assert.Equal("checkpointed", await grain.GetAsync());
        await using var connection = await TestDatabase.OpenServiceAsync();
        var rows = await connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM OrleansStorage WHERE GrainIdExtensionString = @key AND PayloadBinary IS NOT NULL",
            new { key });
        Assert.Equal(1, rows);
    }

    [Fact]
    public async Task ReminderFiresAndIsStoredInPostgres()
    {
        var grain = fixture.Client.GetGrain<IProbeGrain>(Guid.NewGuid().ToString());
        await grain.StartReminderAsync();
        try
        {
            await using var connection = await TestDatabase.OpenServiceAsync();
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM OrleansRemindersTable WHERE ReminderName = 'probe' AND GrainId LIKE @grain",
                new { grain = $"%{grain.GetPrimaryKeyString()}%" }));

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await grain.GetReminderTicksAsync() == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.True(await grain.GetReminderTicksAsync() >= 1, "the reminder did not fire within 30 s");
        }
        finally
        {
            await grain.StopReminderAsync();
        }
    }
}
