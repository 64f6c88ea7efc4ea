using System.Net;
using System.Net.Http.Json;
using OptimizationRuns.Gateway.Apis;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

[Collection(ClusterCollection.Name)]
public sealed class HealthApiTests(ClusterFixture fixture)
{
    [Fact]
    public async Task LiveAnswersWithoutAKey()
    {
        await using var gateway = new GatewayFactory(fixture.Client);
        var response = await gateway.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ReadyChecksTheDatabaseThroughASilo()
    {
        await using var gateway = new GatewayFactory(fixture.Client);

        var response = await gateway.CreateClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<ReadinessResponse>();
        Assert.NotNull(body);
        Assert.True(body.SiloReachable);
        Assert.True(body.DatabaseReachable);
        Assert.Contains(fixture.Cluster.Silos, s => s.SiloAddress.ToString() == body.Silo);
    }
}
