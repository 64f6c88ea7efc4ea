using System.Net;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>The OpenAPI document parses, lists every route with its errors, and the docs page is served.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenApiTests(GatewayFixture fixture)
{
    public static TheoryData<string, string> Routes => new()
    {
        { "post", "/api/projects" },
        { "post", "/api/projects/{projectId}/api-keys" },
        { "delete", "/api/projects/{projectId}/api-keys/{keyId}" },
        { "post", "/api/optimization/runs" },
        { "get", "/api/optimization/runs/{runId}" },
        { "patch", "/api/optimization/runs/{runId}" },
        { "delete", "/api/optimization/runs/{runId}" },
        { "post", "/api/optimization/runs/{runId}/progress" },
        { "get", "/api/optimization/runs/{runId}/events" },
        { "post", "/api/optimization/runs/{runId}/iterations" },
        { "post", "/api/optimization/runs/{runId}/samples" },
        { "get", "/health/live" },
        { "get", "/health/ready" },
    };

    private async Task<JsonElement> DocumentAsync()
    {
        using var client = fixture.ClientWithKey(null);
        var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task EveryRouteIsDocumented(string method, string path)
    {
        var document = await DocumentAsync();

        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        Assert.True(operation.TryGetProperty("operationId", out _), $"{method} {path} has no operationId");
        Assert.True(operation.GetProperty("responses").EnumerateObject().Any(), $"{method} {path} documents no response");
    }

    [Fact]
    public async Task WritesDocumentTheirErrors()
    {
        var responses = (await DocumentAsync()).GetProperty("paths").GetProperty("/api/optimization/runs/{runId}/samples")
            .GetProperty("post").GetProperty("responses");

        foreach (var status in new[] { "200", "400", "401", "404", "409", "413", "503" })
        {
            Assert.True(responses.TryGetProperty(status, out _), $"POST samples does not document {status}");
        }
    }

    [Fact]
    public async Task TheInteractiveDocsAreServed()
    {
        using var client = fixture.ClientWithKey(null);
        var response = await client.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync());
    }
}
