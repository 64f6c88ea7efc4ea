using Microsoft.Extensions.Configuration;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Grains.Projects;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// The gateway reuses a valid key's answer only for what is left of the silo's fresh window: one grain call per
/// request instead of two, and a revoked key still stops within <see cref="ApiKeyGrain.CacheFor"/> of the silo's check.
/// One silo, so every key check meets the same silo cache.
/// </summary>
public sealed class ApiKeyCheckTests(QuickStallClusterFixture fixture) : IClassFixture<QuickStallClusterFixture>
{
    private static readonly IConfiguration NoAdminKey = new ConfigurationBuilder().Build();

    [Fact]
    public async Task ARevokedKeyStopsWhenTheSilosFreshWindowEndsNotAWindowAfterTheGatewayLearntIt()
    {
        var projectId = await TestDatabase.CreateProjectAsync();
        var admin = fixture.Client.GetGrain<IProjectAdminGrain>(0);
        var key = await admin.CreateApiKeyAsync(projectId, "cached");
        var silo = fixture.Client.GetGrain<IApiKeyGrain>(0);

        var checkedAt = DateTime.UtcNow;
        var first = await silo.AuthenticateAsync(ApiKeys.Hash(key.Key));
        var again = await silo.AuthenticateAsync(ApiKeys.Hash(key.Key));
        Assert.Equal(projectId, first.ProjectId);
        Assert.InRange(first.FreshFor, TimeSpan.FromTicks(1), ApiKeyGrain.CacheFor);
        Assert.True(again.FreshFor <= first.FreshFor, $"the cached answer is fresh for {again.FreshFor}, the first for {first.FreshFor}");

        // A second into the silo's window, a gateway learns the key (from the silo's cache), then the key is revoked.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var gateway = new ApiKeyCheck(fixture.Client, NoAdminKey);
        Assert.True((await gateway.AuthenticateAsync(key.Key, "test", default)).Succeeded);
        Assert.True(await admin.RevokeApiKeyAsync(projectId, key.Id));

        // Half a second past the silo's window: had the gateway kept the answer a window of its own, it would still pass.
        var due = checkedAt + ApiKeyGrain.CacheFor + TimeSpan.FromMilliseconds(500) - DateTime.UtcNow;
        if (due > TimeSpan.Zero)
        {
            await Task.Delay(due);
        }

        Assert.False((await gateway.AuthenticateAsync(key.Key, "test", default)).Succeeded, "the revoked key still works");
    }
}
