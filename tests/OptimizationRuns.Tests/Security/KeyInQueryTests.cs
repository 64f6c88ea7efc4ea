using System.Net;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using OptimizationRuns.Tests.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Security;

/// <summary>An API key in a URL is refused, naming the parameter, and the request does nothing.</summary>
[Collection(GatewayCollection.Name)]
public sealed class KeyInQueryTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("api_key", "anything")]
    [InlineData("apiKey", "anything")]
    [InlineData("access_token", "anything")]
    [InlineData("token", "anything")]
    [InlineData("q", "ork_AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    [InlineData("q", "Bearer abc")]
    [InlineData("q", GatewayFixture.AdminKey)]
    public async Task AKeyInTheQueryStringIsRefusedNamingTheParameter(string name, string value)
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        using (client)
        {
            using var response = await client.GetAsync($"/api/optimization/runs?{name}={Uri.EscapeDataString(value)}");
            await response.ProblemAsync(HttpStatusCode.BadRequest, name);
        }
    }

    [Fact]
    public async Task ARefusedWriteWithAKeyInItsUrlStoresNothing()
    {
        var (_, client, key) = await fixture.NewProjectAsync();
        using (client)
        {
            var runId = await client.CreateRunAsync();
            using var response = await client.PostJsonAsync($"/api/optimization/runs/{runId}/samples?api_key={key.Key}", HttpJson.Samples(1, 0, 5));
            await response.ProblemAsync(HttpStatusCode.BadRequest, "api_key");
            Assert.Equal(0, await RunScenario.ReadStoredSampleCountAsync(runId));
        }
    }

    [Fact]
    public async Task OrdinaryQueryParametersPass()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        using (client)
        {
            using var response = await client.GetAsync("/api/optimization/runs?q=keynote&sort=-createdAt&limit=5");
            await response.JsonAsync(HttpStatusCode.OK);
        }
    }
}
