using System.Net;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>A run that ends shows in the analytics within seconds, without an explicit refresh or the 5-minute schedule.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AnalyticsFreshnessTests(GatewayFixture fixture)
{
    [Fact]
    public async Task ACompletedRunIsInTheAnalyticsWithinSeconds()
    {
        var p = new ReadSideDriver((await fixture.NewProjectAsync()).Client);
        var run = await p.CreateRunAsync("finished", baselineScore: 0.5m, totalIterations: 1);
        await p.CompleteAsync(run, 0.7m);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        long completed = 0;
        while (completed == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            var analytics = await p.GetAsync("/api/optimization/analytics");
            completed = analytics.GetProperty("items").EnumerateArray().Sum(i => i.GetProperty("completedRuns").GetInt64());
        }

        Assert.Equal(1, completed);
    }
}
