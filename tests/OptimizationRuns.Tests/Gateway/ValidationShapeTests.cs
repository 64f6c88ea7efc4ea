using System.Net;
using System.Text;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// Every endpoint's 400 has one shape: RFC 9457 problem details with one title and <c>errors: {path: [messages]}</c>
/// naming the parameter or the JSON path — whether the endpoint, the JSON reader, the parameter binder or a grain refused it.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ValidationShapeTests(GatewayFixture fixture)
{
    private const string Title = "One or more fields are invalid.";

    // method, url ({run}, {project}), body (null: none), the field the problem must name, whether the admin key calls it
    public static TheoryData<string, string, string?, string, bool> BadRequests => new()
    {
        { "POST", "/api/projects", """{"name":""}""", "name", true },
        { "POST", "/api/projects", "{}", "name", true },
        { "GET", "/api/projects?limit=0", null, "limit", true },
        { "GET", "/api/projects?cursor=nonsense", null, "cursor", true },
        { "POST", "/api/projects/{project}/api-keys", """{"name":5}""", "name", true },
        { "POST", "/api/optimization/runs", """{"runName":"","optimizerType":"miprov2","config":{}}""", "runName", false },
        { "POST", "/api/optimization/runs", """{"runName":"x","optimizerType":"miprov2","config":{},"baselineScore":"high"}""", "baselineScore", false },
        { "GET", "/api/optimization/runs?limit=abc", null, "limit", false },
        { "GET", "/api/optimization/runs?minScore=2", null, "minScore", false },
        { "PATCH", "/api/optimization/runs/{run}", """{"status":"bogus"}""", "status", false },
        { "PATCH", "/api/optimization/runs/{run}", """{"status":"completed","finalScore":7}""", "finalScore", false },
        { "POST", "/api/optimization/runs/{run}/progress", """{"currentIteration":"three"}""", "currentIteration", false },
        { "GET", "/api/optimization/runs/{run}/events?after=abc", null, "after", false },
        { "POST", "/api/optimization/runs/{run}/iterations", """{"iteration":-1,"kind":"full"}""", "iteration", false },
        { "POST", "/api/optimization/runs/{run}/iterations", """{"iteration":1,"kind":"bogus"}""", "kind", false },
        { "GET", "/api/optimization/runs/{run}/iterations?params=notjson", null, "params", false },
        { "POST", "/api/optimization/runs/{run}/samples", """{"samples":[{"iteration":0,"sampleIndex":0,"score":2}]}""", "samples[0].score", false },
        { "POST", "/api/optimization/runs/{run}/samples", """{"samples":[{"iteration":0}]}""", "samples[0].sampleIndex", false },
        { "GET", "/api/optimization/runs/{run}/samples?minScore=x", null, "minScore", false },
        { "GET", "/api/optimization/traces/4bf92f3577b34da6a3ce929d0e0e4736/samples?limit=0", null, "limit", false },
        { "POST", "/api/optimization/runs/{run}/candidates", """{"candidates":[{"predictor":"0","kind":"bogus","index":0}]}""", "candidates[0].kind", false },
        { "GET", "/api/optimization/runs/{run}/examples?sort=bogus", null, "sort", false },
        { "GET", "/api/optimization/runs/{run}/export?format=xml", null, "format", false },
        { "GET", "/api/optimization/compare?a=x&b=y", null, "a", false },
        { "GET", "/api/optimization/compare/examples?a={run}&b={run}&bucket=bogus", null, "bucket", false },
        { "GET", "/api/optimization/leaderboard?limit=0", null, "limit", false },
        { "POST", "/api/optimization/runs", """{"runName":"x",""", "body", false },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task EveryBadRequestHasTheOneProblemShape(string method, string url, string? body, string field, bool admin)
    {
        var (projectId, client, _) = await fixture.NewProjectAsync();
        using var adminClient = fixture.Admin();
        var caller = admin ? adminClient : client;
        var runId = url.Contains("{run}") ? await client.CreateRunAsync() : Guid.Empty;
        using var request = new HttpRequestMessage(new HttpMethod(method),
            url.Replace("{run}", runId.ToString()).Replace("{project}", projectId.ToString()))
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };

        var response = await caller.SendAsync(request);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, field);
        var text = problem.GetRawText();
        Assert.Equal(Title, problem.GetProperty("title").GetString());
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.1", problem.GetProperty("type").GetString());
        var errors = problem.GetProperty("errors");
        Assert.Equal(JsonValueKind.Object, errors.ValueKind);
        foreach (var error in errors.EnumerateObject())
        {
            Assert.False(string.IsNullOrWhiteSpace(error.Name), text);
            Assert.Equal(JsonValueKind.Array, error.Value.ValueKind);
            Assert.NotEmpty(error.Value.EnumerateArray());
            Assert.All(error.Value.EnumerateArray(), m => Assert.False(string.IsNullOrWhiteSpace(m.GetString()), text));
        }

        Assert.Empty(problem.EnumerateObject().Select(p => p.Name).Except(["type", "title", "status", "detail", "instance", "errors", "traceId"]));
    }
}
