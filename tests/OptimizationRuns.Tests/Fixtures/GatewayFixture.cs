using System.Net.Http.Headers;
using System.Net.Http.Json;
using OptimizationRuns.Gateway.Apis;
using Xunit;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>
/// The test cluster plus the real gateway pipeline in front of it (WebApplicationFactory over the
/// cluster's client), with an admin key. Tests make their own projects and keys through the API.
/// </summary>
public sealed class GatewayFixture : ClusterFixture
{
    public const string AdminKey = "test-admin-key-0123456789";

    private GatewayFactory? _gateway;

    public GatewayFactory Gateway => _gateway ?? throw new InvalidOperationException("The gateway is not started.");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _gateway = new GatewayFactory(Client, new Dictionary<string, string?> { ["OPTRUNS_ADMIN_KEY"] = AdminKey });
    }

    public override async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    /// <summary>An HTTP client that sends <paramref name="key"/> as its bearer token (none when null).</summary>
    public HttpClient ClientWithKey(string? key)
    {
        var client = Gateway.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public HttpClient Admin() => ClientWithKey(AdminKey);

    /// <summary>A new project through the admin API, and a client holding a fresh key of it.</summary>
    public async Task<(Guid ProjectId, HttpClient Client, ApiKeyResponse Key)> NewProjectAsync()
    {
        using var admin = Admin();
        var created = await admin.PostAsJsonAsync("/api/projects", new { name = $"project-{Guid.NewGuid():N}" });
        created.EnsureSuccessStatusCode();
        var project = (await created.Content.ReadFromJsonAsync<ProjectResponse>())!;
        var keyResponse = await admin.PostAsJsonAsync($"/api/projects/{project.Id}/api-keys", new { name = "test" });
        keyResponse.EnsureSuccessStatusCode();
        var key = (await keyResponse.Content.ReadFromJsonAsync<ApiKeyResponse>())!;
        return (project.Id, ClientWithKey(key.Key), key);
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
