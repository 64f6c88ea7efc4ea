using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>Small helpers for asserting on the gateway's JSON and problem-details answers.</summary>
public static class HttpJson
{
    public const string ExampleRunBody = """{"runName":"Test Run","optimizerType":"miprov2","config":{"optimizer":"miprov2","metric":"accuracy"}}""";

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string json, string contentType = "application/json") =>
        client.PostAsync(url, new StringContent(json, Encoding.UTF8, contentType));

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts a problem-details answer with <paramref name="status"/>, and for 400s that it names <paramref name="field"/>.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (field is not null)
        {
            var errors = problem.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), $"the problem does not name '{field}': {body}");
        }

        return problem;
    }

    public static async Task<Guid> CreateRunAsync(this HttpClient client, string body = ExampleRunBody)
    {
        var created = await (await client.PostRawAsync("/api/optimization/runs", body)).JsonAsync(HttpStatusCode.Created);
        return created.GetProperty("id").GetGuid();
    }

    /// <summary>
    /// Creates a run as a client of a just-started cluster does: a 503 (the first calls to a fresh silo activate grains
    /// and compile code, and on a loaded machine can pass the gateway's call deadline) is retried after its
    /// Retry-After for up to a minute; any other answer than 201 fails at once.
    /// </summary>
    public static async Task<Guid> CreateRunWhenReadyAsync(this HttpClient client, string body = ExampleRunBody)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            using var response = await client.PostRawAsync("/api/optimization/runs", body);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                return (await response.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
    }

    public static async Task<JsonElement> GetRunAsync(this HttpClient client, Guid runId) =>
        await (await client.GetAsync($"/api/optimization/runs/{runId}")).JsonAsync(HttpStatusCode.OK);

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body);

    public static object Samples(int iteration, int from, int count, bool success = true) => new
    {
        samples = Enumerable.Range(from, count).Select(i => new
        {
            iteration, sampleIndex = i, exampleId = $"ex-{i}", inputs = new { question = "q" }, expected = new { answer = "a" },
            prediction = new { answer = "a" }, score = success ? 1.0 : 0.0, success, latencyMs = 800 + i, promptTokens = 512,
            completionTokens = 64, costUsd = 0.0004, traceId = "4bf92f3577b34da6a3ce929d0e0e4736", spanId = "00f067aa0ba902b7",
        }).ToArray(),
    };
}
