using System.Net;
using System.Net.Http.Json;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>Keys decide who may call what; another project's run is not found, and nothing changes.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AuthTests(GatewayFixture fixture)
{
    public static TheoryData<string, string, string?> ProjectEndpoints => new()
    {
        { "GET", "/api/optimization/runs/{run}", null },
        { "PATCH", "/api/optimization/runs/{run}", """{"runName":"stolen","status":"cancelled"}""" },
        { "DELETE", "/api/optimization/runs/{run}", null },
        { "POST", "/api/optimization/runs/{run}/progress", """{"phase":"searching"}""" },
        { "POST", "/api/optimization/runs/{run}/iterations", """{"iteration":9,"kind":"full","score":0.9}""" },
        { "POST", "/api/optimization/runs/{run}/samples", """{"samples":[{"iteration":9,"sampleIndex":0,"score":1}]}""" },
        { "GET", "/api/optimization/runs/{run}/events", null },
    };

    private static HttpRequestMessage Request(string method, string url, Guid runId, string? body) =>
        new(new HttpMethod(method), url.Replace("{run}", runId.ToString()))
        {
            Content = body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };

    [Theory]
    [MemberData(nameof(ProjectEndpoints))]
    public async Task AnotherProjectsRunIsNotFoundAndUnchanged(string method, string url, string? body)
    {
        var (_, owner, _) = await fixture.NewProjectAsync();
        var (_, stranger, _) = await fixture.NewProjectAsync();
        var runId = await owner.CreateRunAsync();
        await (await owner.PostJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(1, 0, 3))).JsonAsync(HttpStatusCode.OK);
        var before = await owner.GetRunAsync(runId);

        var response = await stranger.SendAsync(Request(method, url, runId, body));

        await response.ProblemAsync(HttpStatusCode.NotFound);
        var after = await owner.GetRunAsync(runId);
        Assert.Equal(before.GetProperty("runName").GetString(), after.GetProperty("runName").GetString());
        Assert.Equal(before.GetProperty("status").GetString(), after.GetProperty("status").GetString());
        Assert.Equal(before.GetProperty("updatedAt").GetString(), after.GetProperty("updatedAt").GetString());
        Assert.Equal(3, await RunScenario.ReadStoredSampleCountAsync(runId));
    }

    [Theory]
    [MemberData(nameof(ProjectEndpoints))]
    public async Task NoKeyOrAnUnknownKeyIsUnauthorized(string method, string url, string? body)
    {
        using var anonymous = fixture.ClientWithKey(null);
        using var wrong = fixture.ClientWithKey("ork_not-a-real-key");

        var noKey = await anonymous.SendAsync(Request(method, url, Guid.NewGuid(), body));
        var badKey = await wrong.SendAsync(Request(method, url, Guid.NewGuid(), body));

        await noKey.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", noKey.Headers.WwwAuthenticate.ToString());
        await badKey.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ARevokedKeyStopsWorkingWithinSeconds()
    {
        var (projectId, client, key) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        using var admin = fixture.Admin();

        var revoked = await admin.DeleteAsync($"/api/projects/{projectId}/api-keys/{key.Id}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpStatusCode status;
        do
        {
            status = (await client.GetAsync($"/api/optimization/runs/{runId}")).StatusCode;
            if (status != HttpStatusCode.Unauthorized)
            {
                await Task.Delay(250);
            }
        }
        while (status != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task AdminEndpointsRefuseProjectKeysAndProjectEndpointsRefuseTheAdminKey()
    {
        var (projectId, client, _) = await fixture.NewProjectAsync();
        using var admin = fixture.Admin();

        await (await client.PostAsJsonAsync("/api/projects", new { name = "mine now" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await client.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "more" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.PostRawAsync("/api/optimization/runs", HttpJson.ExampleRunBody)).ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AKeyIsShownOnceAndStoredOnlyAsAHash()
    {
        var (_, _, key) = await fixture.NewProjectAsync();

        Assert.StartsWith("ork_", key.Key);
        Assert.True(key.Key.Length >= 4 + 32, "at least 192 bits of base64url");
        Assert.StartsWith(key.Prefix, key.Key);
        await using var connection = await TestDatabase.OpenOwnerAsync();
        var stored = await Dapper.SqlMapper.QuerySingleAsync<(string Prefix, byte[] Hash)>(connection,
            "SELECT prefix, key_hash FROM project_api_keys WHERE id = @id", new { id = key.Id });
        Assert.Equal(key.Prefix, stored.Prefix);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key.Key)), stored.Hash);
    }

    [Fact]
    public async Task KeysOfAMissingProjectAreNotFound()
    {
        using var admin = fixture.Admin();
        await (await admin.PostAsJsonAsync($"/api/projects/{Guid.NewGuid()}/api-keys", new { name = "x" })).ProblemAsync(HttpStatusCode.NotFound);
    }
}
