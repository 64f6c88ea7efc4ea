using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Dapper;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Grains.Telemetry;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// Progress from many workers: acknowledged at once, stored for many runs at a time by the silo's writer (no commit of the
/// run), the latest of it read back and stored (also when the grain deactivates), and the run's watchers see every status
/// change in order.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ProgressApiTests(GatewayFixture fixture)
{
    private const int Workers = 8;
    private const int ReportsPerWorker = 25;

    [Fact]
    public async Task ManyProgressReportsCauseFewCommitsAndTheLatestIsReadAndStored()
    {
        var (projectId, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        var run = $"/api/optimization/runs/{runId}";
        // The first report starts the run: a status change, committed before its answer.
        await (await client.PostJsonAsync($"{run}/progress", new { phase = "bootstrapping" })).JsonAsync(HttpStatusCode.OK);

        using var commits = new CommitCounter(runId);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var i = 1; i <= ReportsPerWorker; i++)
            {
                var trial = w * ReportsPerWorker + i;
                await (await client.PostJsonAsync($"{run}/progress", new { phase = "searching", currentIteration = trial, message = $"worker {w}: trial {trial}" }))
                    .JsonAsync(HttpStatusCode.OK);
            }
        })));
        var last = await (await client.PostJsonAsync($"{run}/progress", new { message = "trial 200 of 200" })).JsonAsync(HttpStatusCode.OK);
        watch.Stop();

        // 201 reports and not one commit of the run: its progress is stored by the silo's writer, many runs at a time.
        Assert.True(commits.Count == 0, $"{Workers * ReportsPerWorker + 1} reports in {watch.ElapsedMilliseconds} ms caused {commits.Count} commits of the run");
        Assert.Equal("trial 200 of 200", last.GetProperty("message").GetString());
        Assert.Equal(Workers * ReportsPerWorker, last.GetProperty("currentIteration").GetInt32());

        var read = await client.GetRunAsync(runId);
        Assert.Equal(("searching", "trial 200 of 200", 200),
            (read.GetProperty("phase").GetString(), read.GetProperty("message").GetString(), read.GetProperty("currentIteration").GetInt32()));
        // Within the write period, without any other write, the row holds it.
        await UntilStoredAsync(runId, ("searching", "trial 200 of 200", 200));

        // Accepted and then the grain deactivates at once: the deactivation writes it.
        await (await client.PostJsonAsync($"{run}/progress", new { phase = "evaluating", message = "full evaluation" })).JsonAsync(HttpStatusCode.OK);
        await fixture.Cluster.DeactivateAsync(RunsGrain(projectId, runId));
        // The new activation reads phase and message from the row only (the live state does not hold them).
        var reactivated = await client.GetRunAsync(runId);
        Assert.Equal(("evaluating", "full evaluation"), (reactivated.GetProperty("phase").GetString(), reactivated.GetProperty("message").GetString()));
        Assert.Equal(("evaluating", "full evaluation", 200), await ReadStoredProgressAsync(runId));
    }

    [Fact]
    public async Task TheProgressOfManyRunsIsStoredByAFewTransactions()
    {
        const int Runs = 30;
        var (_, client, _) = await fixture.NewProjectAsync();
        var runIds = new List<Guid>();
        for (var r = 0; r < Runs; r++)
        {
            var runId = await client.CreateRunAsync();
            await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/progress", new { phase = "bootstrapping" })).JsonAsync(HttpStatusCode.OK);
            runIds.Add(runId);
        }

        await Task.WhenAll(runIds.Select(async runId => await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/progress",
            new { phase = "searching", currentIteration = 3, message = $"run {runId:N}" })).JsonAsync(HttpStatusCode.OK)));
        foreach (var runId in runIds)
        {
            await UntilStoredAsync(runId, ("searching", $"run {runId:N}", 3));
        }

        // Each silo's writer stores what its runs accepted in one transaction a period: reports sent together land in
        // one or two periods of each of the fixture's silos, never one transaction a run.
        await using var connection = await TestDatabase.OpenOwnerAsync();
        var transactions = await connection.ExecuteScalarAsync<int>(
            "SELECT count(DISTINCT xmin::text) FROM optimization_runs WHERE id = ANY(@ids)", new { ids = runIds.ToArray() });
        Assert.InRange(transactions, 1, 2 * fixture.Cluster.Silos.Count);
    }

    [Fact]
    public async Task AWatcherSeesEveryStatusChangeInOrderUnderConcurrentProgress()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runIds = new List<Guid>();
        for (var r = 0; r < 3; r++)
        {
            runIds.Add(await client.CreateRunAsync());
        }

        var outcomes = await Task.WhenAll(runIds.Select(runId => WatchWhileReportingAsync(client, runId)));

        foreach (var (events, acknowledged) in outcomes)
        {
            var statuses = events.Where(e => e.EventType == "status")
                .Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("status").GetString()).ToList();
            Assert.Equal(["running", "completed"], statuses);
            var ids = events.Select(e => long.Parse(e.EventId!)).ToList();
            Assert.Equal(ids.Order(), ids);
            Assert.Equal(ids.Count, ids.Distinct().Count());
            // Every acknowledged report was published, between the two status changes.
            Assert.Equal(acknowledged, events.Count(e => e.EventType == "progress"));
            // The completion is the last word: no report is published after it (a report committed together with the
            // completion used to publish its progress event after the commit's status event).
            Assert.Equal("status", events[^1].EventType);
            Assert.Equal("status", events[0].EventType);
        }
    }

    // Opens the run's event stream while it is pending, then 8 workers report progress (the first report starts the
    // run) until the run is completed while they still send: the events seen and the reports acknowledged.
    private static async Task<(List<SseItem<string>> Events, int Acknowledged)> WatchWhileReportingAsync(HttpClient client, Guid runId)
    {
        var run = $"/api/optimization/runs/{runId}";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{run}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var reading = Task.Run(async () =>
        {
            var seen = new List<SseItem<string>>();
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(timeout.Token))
            {
                seen.Add(item);
            }

            return seen;
        });

        var acknowledged = 0;
        var ended = 0;
        var reporting = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; Volatile.Read(ref ended) == 0 || i < 3; i++)
            {
                using var answer = await client.PostJsonAsync($"{run}/progress", new { phase = "searching", currentIteration = i, message = $"worker {w}: step {i}" });
                if (answer.StatusCode == HttpStatusCode.Conflict)
                {
                    return; // the run has ended: it takes no more reports
                }

                await answer.JsonAsync(HttpStatusCode.OK);
                Interlocked.Increment(ref acknowledged);
                // Workers report often, not in a tight loop (which the per-key rate limit would refuse).
                await Task.Delay(20);
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        await (await client.PatchAsync(run, new StringContent("""{"status":"completed","finalScore":0.5}""", System.Text.Encoding.UTF8, "application/json")))
            .JsonAsync(HttpStatusCode.OK);
        Volatile.Write(ref ended, 1);
        await Task.WhenAll(reporting);
        return (await reading, acknowledged);
    }

    private IRunGrain RunsGrain(Guid projectId, Guid runId) => fixture.Client.GetGrain<IRunGrain>(runId, projectId.ToString());

    private static async Task<(string? Phase, string? Message, int? CurrentIteration)> ReadStoredProgressAsync(Guid runId)
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        return await connection.QuerySingleAsync<(string?, string?, int?)>(
            "SELECT phase, message, current_iteration FROM optimization_runs WHERE id = @runId", new { runId });
    }

    private static async Task UntilStoredAsync(Guid runId, (string?, string?, int?) expected)
    {
        var watch = Stopwatch.StartNew();
        while (await ReadStoredProgressAsync(runId) != expected)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the row still holds {await ReadStoredProgressAsync(runId)}, not {expected}");
            await Task.Delay(100);
        }
    }

    /// <summary>Counts the group commits of one run (the grain's commit spans), whichever silo makes them.</summary>
    private sealed class CommitCounter : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentBag<string> _commits = [];

        public CommitCounter(Guid runId)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == RunTelemetry.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    if (activity.OperationName == "run.commit" && activity.GetTagItem(RunTelemetry.RunIdTag) is Guid id && id == runId)
                    {
                        _commits.Add(activity.Id ?? "");
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public int Count => _commits.Count;

        public void Dispose() => _listener.Dispose();
    }
}
