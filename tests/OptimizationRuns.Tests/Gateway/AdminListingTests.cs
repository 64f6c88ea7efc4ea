using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>The admin finds projects and keys again (GET /api/projects, GET /api/projects/{id}/api-keys), never a key.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AdminListingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task ALostProjectIdIsFoundAgainInTheListingPageByPage()
    {
        var (projectId, _, _) = await fixture.NewProjectAsync();
        var (newerId, _, _) = await fixture.NewProjectAsync();
        using var admin = fixture.Admin();

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await (await admin.GetAsync($"/api/projects?limit=1{(cursor is null ? "" : $"&cursor={cursor}")}")).JsonAsync(HttpStatusCode.OK);
            Assert.Single(page.GetProperty("items").EnumerateArray());
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null && !seen.Contains(projectId));

        Assert.Contains(projectId, seen);
        Assert.True(seen.IndexOf(newerId) < seen.IndexOf(projectId), "newest first");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var project = await (await admin.GetAsync($"/api/projects/{projectId}")).JsonAsync(HttpStatusCode.OK);
        Assert.StartsWith("project-", project.GetProperty("name").GetString());
        Assert.Equal(1, project.GetProperty("apiKeys").GetInt64());
        Assert.Equal(1, project.GetProperty("activeApiKeys").GetInt64());
    }

    [Fact]
    public async Task KeysAreListedByPrefixNameAndTimesButNeverTheKey()
    {
        var (projectId, client, used) = await fixture.NewProjectAsync();
        using var admin = fixture.Admin();
        var spare = await (await admin.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "spare" })).JsonAsync(HttpStatusCode.Created);
        var spareId = spare.GetProperty("id").GetGuid();
        await (await client.GetAsync("/api/optimization/runs")).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/projects/{projectId}/api-keys/{spareId}")).StatusCode);

        var response = await admin.GetAsync($"/api/projects/{projectId}/api-keys");
        var body = await response.Content.ReadAsStringAsync();
        var keys = (await response.JsonAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();

        Assert.Equal([used.Id, spareId], keys.Select(k => k.GetProperty("id").GetGuid()));
        Assert.Equal(["test", "spare"], keys.Select(k => k.GetProperty("name").GetString()));
        Assert.Equal([used.Prefix, spare.GetProperty("prefix").GetString()], keys.Select(k => k.GetProperty("prefix").GetString()));
        Assert.All(keys, k => Assert.NotEqual(JsonValueKind.Null, k.GetProperty("createdAt").ValueKind));
        Assert.NotEqual(JsonValueKind.Null, keys[0].GetProperty("lastUsedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, keys[0].GetProperty("revokedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, keys[1].GetProperty("lastUsedAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, keys[1].GetProperty("revokedAt").ValueKind);
        Assert.DoesNotContain(used.Key, body);
        Assert.DoesNotContain(spare.GetProperty("key").GetString()!, body);
        Assert.DoesNotContain("hash", body, StringComparison.OrdinalIgnoreCase);
        var project = await (await admin.GetAsync($"/api/projects/{projectId}")).JsonAsync(HttpStatusCode.OK);
        Assert.Equal((2, 1), (project.GetProperty("apiKeys").GetInt64(), project.GetProperty("activeApiKeys").GetInt64()));
    }

    [Theory]
    [InlineData("/api/projects")]
    [InlineData("/api/projects/{project}")]
    [InlineData("/api/projects/{project}/api-keys")]
    public async Task TheListingsRefuseProjectKeysAndCallersWithoutAKey(string url)
    {
        var (projectId, client, _) = await fixture.NewProjectAsync();
        using var anonymous = fixture.ClientWithKey(null);
        url = url.Replace("{project}", projectId.ToString());

        await (await client.GetAsync(url)).ProblemAsync(HttpStatusCode.Forbidden);
        await (await anonymous.GetAsync(url)).ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AMissingProjectIsNotFoundAndABadPageIsNamed()
    {
        using var admin = fixture.Admin();

        await (await admin.GetAsync($"/api/projects/{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await admin.GetAsync($"/api/projects/{Guid.NewGuid()}/api-keys")).ProblemAsync(HttpStatusCode.NotFound);
        await (await admin.GetAsync("/api/projects?limit=0")).ProblemAsync(HttpStatusCode.BadRequest, "limit");
        await (await admin.GetAsync("/api/projects?cursor=nonsense")).ProblemAsync(HttpStatusCode.BadRequest, "cursor");
    }
}
