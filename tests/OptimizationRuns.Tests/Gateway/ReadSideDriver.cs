using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// A project's client for the read-side tests: writes runs, iterations and samples through the HTTP API as a
/// worker would, and reads answers back as JSON.
/// </summary>
public sealed class ReadSideDriver(HttpClient http)
{
    public HttpClient Http => http;

    public async Task<Guid> CreateRunAsync(
        string name, string optimizerType = "miprov2", object? config = null, string[]? tags = null,
        decimal? baselineScore = null, int? totalIterations = null)
    {
        var response = await http.PostAsJsonAsync("/api/optimization/runs",
            new { runName = name, optimizerType, config = config ?? new { }, tags, baselineScore, totalIterations });
        await ExpectAsync(response, HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task PatchAsync(Guid runId, object body) =>
        await ExpectAsync(await http.PatchAsJsonAsync($"/api/optimization/runs/{runId}", body), HttpStatusCode.OK);

    public Task StartAsync(Guid runId) => PatchAsync(runId, new { status = "running" });

    public Task CompleteAsync(Guid runId, decimal finalScore) => PatchAsync(runId, new { status = "completed", finalScore });

    public async Task RecordIterationAsync(Guid runId, object iteration)
    {
        var response = await http.PostAsJsonAsync($"/api/optimization/runs/{runId}/iterations", iteration);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await DescribeAsync(response));
    }

    public Task RecordIterationAsync(Guid runId, int iteration, string kind, decimal? score) =>
        RecordIterationAsync(runId, new { iteration, kind, score });

    public async Task RecordSamplesAsync(Guid runId, IEnumerable<object> samples)
    {
        var response = await http.PostAsJsonAsync($"/api/optimization/runs/{runId}/samples", new { samples = samples.ToArray() });
        await ExpectAsync(response, HttpStatusCode.OK);
    }

    /// <summary>GET, expecting 200; the answer's JSON.</summary>
    public async Task<JsonElement> GetAsync(string url)
    {
        var response = await http.GetAsync(url);
        await ExpectAsync(response, HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>POST without a body, expecting 200; the answer's JSON.</summary>
    public async Task<JsonElement> PostAsync(string url)
    {
        var response = await http.PostAsync(url, null);
        await ExpectAsync(response, HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>GET, expecting a problem with <paramref name="status"/>; the problem's JSON.</summary>
    public async Task<JsonElement> GetProblemAsync(string url, HttpStatusCode status)
    {
        var response = await http.GetAsync(url);
        await ExpectAsync(response, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>GET, expecting a 400 validation problem that names <paramref name="field"/>.</summary>
    public async Task ExpectInvalidAsync(string url, string field)
    {
        var problem = await GetProblemAsync(url, HttpStatusCode.BadRequest);
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out var messages)
                && messages.GetArrayLength() > 0,
            $"{url}: expected an error for '{field}', got {problem}");
    }

    /// <summary>Every page of a list, following nextCursor; the pages' items in order.</summary>
    public async Task<(List<JsonElement> Items, int Pages)> AllPagesAsync(string url, Func<Task>? betweenPages = null)
    {
        var items = new List<JsonElement>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var separator = url.Contains('?') ? '&' : '?';
            var page = await GetAsync(cursor is null ? url : $"{url}{separator}cursor={Uri.EscapeDataString(cursor)}");
            pages++;
            items.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").GetString();
            if (cursor is not null && betweenPages is not null)
            {
                await betweenPages();
            }
        }
        while (cursor is not null && pages < 1_000);

        return (items, pages);
    }

    public static List<Guid> Ids(JsonElement list) => list.GetProperty("items").EnumerateArray().Select(Id).ToList();

    public static Guid Id(JsonElement item) => item.GetProperty("id").GetGuid();

    /// <summary>PostgreSQL orders uuids by their bytes, which is the order of their hex text.</summary>
    public static string UuidOrder(Guid id) => id.ToString("N");

    /// <summary>The element is the JSON <paramref name="expected"/>, whatever the key order (jsonb keeps its own).</summary>
    public static void AssertJson(string expected, JsonElement actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual.GetRawText())),
            $"expected {expected}, got {actual.GetRawText()}");

    public static string Query(object value) => Uri.EscapeDataString(value is string s ? s : JsonSerializer.Serialize(value));

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode status) =>
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {await DescribeAsync(response)}");

    private static async Task<string> DescribeAsync(HttpResponseMessage response) =>
        $"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}";
}
