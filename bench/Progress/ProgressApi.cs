using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace OptimizationRuns.Bench.Progress;

/// <summary>The REST calls the load makes, with a project and key of its own; bodies are sent as prepared bytes.</summary>
public sealed class ProgressApi : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private readonly HttpClient _writes;
    private readonly HttpClient _watches;

    private ProgressApi(HttpClient writes, HttpClient watches) => (_writes, _watches) = (writes, watches);

    /// <summary>A new project through the admin API and clients holding a key of it: pooled for writes, one connection per watcher.</summary>
    public static async Task<ProgressApi> ConnectAsync(string url, string adminKey, int connections, CancellationToken cancellationToken)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(url) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        var project = await ReadAsync(() => admin.PostAsJsonAsync("/api/projects", new { name = $"bench-progress-{Guid.NewGuid():N}" }, cancellationToken), cancellationToken);
        var key = await ReadAsync(() => admin.PostAsJsonAsync($"/api/projects/{project.GetProperty("id").GetGuid()}/api-keys", new { name = "bench-progress" }, cancellationToken), cancellationToken);
        HttpClient Client(int perServer)
        {
            var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = perServer, PooledConnectionLifetime = TimeSpan.FromMinutes(30) })
            {
                BaseAddress = new Uri(url),
                Timeout = TimeSpan.FromMinutes(10),
            };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.GetProperty("key").GetString());
            return client;
        }

        return new ProgressApi(Client(connections), Client(int.MaxValue));
    }

    public async Task<Guid> CreateRunAsync(string name, CancellationToken cancellationToken)
    {
        var body = $$"""{"runName":"{{name}}","optimizerType":"miprov2","config":{"auto":"heavy","num_threads":8},"totalIterations":50}""";
        var run = await ReadAsync(() => _writes.PostAsync("/api/optimization/runs", Content(Encoding.UTF8.GetBytes(body)), cancellationToken), cancellationToken);
        return run.GetProperty("id").GetGuid();
    }

    /// <summary>Sends one progress report; the status code it was answered with.</summary>
    public Task<HttpStatusCode> ReportProgressAsync(Guid runId, byte[] body, CancellationToken cancellationToken) =>
        SendAsync($"/api/optimization/runs/{runId}/progress", body, cancellationToken);

    public Task<HttpStatusCode> RecordSamplesAsync(Guid runId, byte[] body, CancellationToken cancellationToken) =>
        SendAsync($"/api/optimization/runs/{runId}/samples", body, cancellationToken);

    public async Task CompleteAsync(Guid runId, CancellationToken cancellationToken)
    {
        await ReadAsync(() => _writes.PatchAsync($"/api/optimization/runs/{runId}", Content("""{"status":"completed","finalScore":0.5}"""u8.ToArray()), cancellationToken),
            cancellationToken);
    }

    /// <summary>Opens the run's event stream; answers once its headers arrived, with the task that reads it to its end.</summary>
    public async Task<Task<RunWatch>> WatchAsync(Guid runId, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/optimization/runs/{runId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await _watches.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        return ReadWatchAsync(runId, request, response, cancellationToken);
    }

    private static async Task<RunWatch> ReadWatchAsync(Guid runId, HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var watch = new RunWatch(runId);
        using (request)
        using (response)
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            string? kind = null, id = null, data = null;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0)
                {
                    if (kind is not null && id is not null)
                    {
                        watch.Add(kind, long.Parse(id), data);
                    }

                    kind = id = data = null;
                }
                else if (line.IndexOf(':') is > 0 and var colon)
                {
                    // "field: value" (one space after the colon is part of the syntax, not of the value)
                    var value = line.AsSpan(colon + 1).TrimStart(' ').ToString();
                    switch (line[..colon])
                    {
                        case "event": kind = value; break;
                        case "id": id = value; break;
                        case "data": data = data is null ? value : data + "\n" + value; break;
                    }
                }
            }
        }

        return watch;
    }

    private async Task<HttpStatusCode> SendAsync(string path, byte[] body, CancellationToken cancellationToken)
    {
        using var response = await _writes.PostAsync(path, Content(body), cancellationToken);
        // The answer is read whole, as a client would, before the call counts as acknowledged.
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return response.StatusCode;
    }

    private static ByteArrayContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonType;
        return content;
    }

    // Setup and teardown calls are retried while the system answers 503 or 429 (a cold, loaded machine does at first).
    private static async Task<JsonElement> ReadAsync(Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await send();
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return JsonDocument.Parse(text).RootElement.Clone();
            }

            if (attempt == 30 || response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests))
            {
                throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {text}");
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    public void Dispose()
    {
        _writes.Dispose();
        _watches.Dispose();
    }
}

/// <summary>What one watcher saw: the status changes in order, the number of events, and whether the ids only rose.</summary>
public sealed class RunWatch(Guid runId)
{
    private long _lastId = -1;

    public Guid RunId { get; } = runId;

    public List<string> Statuses { get; } = [];

    public int Events { get; private set; }

    public bool InOrder { get; private set; } = true;

    public void Add(string kind, long id, string? data)
    {
        Events++;
        InOrder &= id > _lastId;
        _lastId = id;
        if (kind == "status" && data is not null)
        {
            using var json = JsonDocument.Parse(data);
            Statuses.Add(json.RootElement.GetProperty("status").GetString() ?? "");
        }
    }
}
