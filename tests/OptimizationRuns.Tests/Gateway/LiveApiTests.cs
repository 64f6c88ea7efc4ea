using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>Server-Sent Events deliver a scripted run's events in order, resume after Last-Event-ID, and end with the run.</summary>
[Collection(GatewayCollection.Name)]
public sealed class LiveApiTests(GatewayFixture fixture)
{
    private static async Task ScriptRunAsync(HttpClient client, Guid runId)
    {
        var run = $"/api/optimization/runs/{runId}";
        await (await client.PatchAsync(run, Json("""{"status":"running"}"""))).JsonAsync(HttpStatusCode.OK);
        await (await client.PostAsync($"{run}/progress", Json("""{"phase":"bootstrapping","message":"demos"}"""))).JsonAsync(HttpStatusCode.OK);
        await (await client.PostAsync($"{run}/iterations", Json("""{"iteration":0,"kind":"baseline","score":0.41}"""))).JsonAsync(HttpStatusCode.Created);
        await (await client.PostAsync($"{run}/iterations", Json("""{"iteration":1,"kind":"minibatch","score":0.80}"""))).JsonAsync(HttpStatusCode.Created);
        await (await client.PostAsync($"{run}/iterations", Json("""{"iteration":2,"kind":"full","score":0.55}"""))).JsonAsync(HttpStatusCode.Created);
        await (await client.PatchAsync(run, Json("""{"status":"completed","finalScore":0.55}"""))).JsonAsync(HttpStatusCode.OK);
    }

    private static readonly string[] ScriptedTypes =
        ["status", "progress", "iteration", "best_score", "iteration", "iteration", "best_score", "status"];

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<List<SseItem<string>>> ReadEventsAsync(HttpClient client, Guid runId, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/optimization/runs/{runId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<SseItem<string>>();
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(timeout.Token))
        {
            events.Add(item);
        }

        return events;
    }

    [Fact]
    public async Task AScriptedRunsEventsArriveInOrderAndTheStreamEndsWithTheRun()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await ScriptRunAsync(client, runId);

        var events = await ReadEventsAsync(client, runId);

        Assert.Equal(ScriptedTypes, events.Select(e => e.EventType));
        var ids = events.Select(e => long.Parse(e.EventId!)).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Contains("\"completed\"", events[^1].Data);
        Assert.Contains("0.55", events[6].Data);
    }

    [Fact]
    public async Task AReconnectingClientResumesAfterLastEventIdWithoutGaps()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await ScriptRunAsync(client, runId);
        var all = await ReadEventsAsync(client, runId);

        var resumed = await ReadEventsAsync(client, runId, lastEventId: all[2].EventId);

        Assert.Equal(all.Skip(3).Select(e => e.EventId), resumed.Select(e => e.EventId));
        Assert.Equal(all.Skip(3).Select(e => e.Data), resumed.Select(e => e.Data));
    }

    [Fact]
    public async Task AWatcherConnectedBeforehandSeesTheRunLive()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        var watching = ReadEventsAsync(client, runId);
        await Task.Delay(300);

        await ScriptRunAsync(client, runId);
        var events = await watching;

        Assert.Equal(ScriptedTypes, events.Select(e => e.EventType));
    }
}
