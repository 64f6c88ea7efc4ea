using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OptimizationRuns.Gateway.Apis;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>A cluster whose analytics view refreshes every second, with the gateway in front of it.</summary>
public sealed class FastAnalyticsClusterFixture : ClusterFixture
{
    public const string AdminKey = "analytics-schedule-admin-key";

    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?>(base.Settings) { ["Analytics:RefreshPeriod"] = "00:00:01" };

    protected override short SiloCount => 1;
}

/// <summary>The analytics view refreshes on its schedule, started when the silo starts, without anyone asking.</summary>
public sealed class AnalyticsScheduleTests(FastAnalyticsClusterFixture fixture) : IClassFixture<FastAnalyticsClusterFixture>
{
    [Fact]
    public async Task TheViewRefreshesOnItsScheduleWithoutAnyoneAsking()
    {
        await using var gateway = new GatewayFactory(fixture.Client,
            new Dictionary<string, string?> { ["OPTRUNS_ADMIN_KEY"] = FastAnalyticsClusterFixture.AdminKey });
        using var admin = gateway.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FastAnalyticsClusterFixture.AdminKey);
        var project = (await (await admin.PostAsJsonAsync("/api/projects", new { name = "scheduled analytics" }))
            .Content.ReadFromJsonAsync<ProjectResponse>())!;
        var key = (await (await admin.PostAsJsonAsync($"/api/projects/{project.Id}/api-keys", new { name = "test" }))
            .Content.ReadFromJsonAsync<ApiKeyResponse>())!;
        using var client = gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        var p = new ReadSideDriver(client);
        await p.CreateRunAsync("counted by the schedule", "simba");

        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonElement analytics;
        do
        {
            await Task.Delay(250);
            analytics = await p.GetAsync("/api/optimization/analytics");
        }
        while (analytics.GetProperty("items").GetArrayLength() == 0 && DateTime.UtcNow < deadline);

        var row = Assert.Single(analytics.GetProperty("items").EnumerateArray());
        Assert.Equal("simba", row.GetProperty("optimizerType").GetString());
        Assert.Equal(1, row.GetProperty("totalRuns").GetInt64());
    }
}
