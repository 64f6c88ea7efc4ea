using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OptimizationRuns.Grains.Projects;
using OptimizationRuns.Tests.Gateway;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// The database stops under a silo, a gateway and ingesting workers (<c>pg_ctl stop -m fast</c>), and starts again.
/// Meanwhile every endpoint that needs it answers 503 with Retry-After and problem details, quickly, never 500;
/// afterwards the same requests succeed by themselves and every acknowledged sample is stored exactly once.
/// Asserted through HTTP only.
/// </summary>
[Trait("Category", "Faults")]
[Collection(ProcessFaults.Name)]
public sealed class DatabaseOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ResumeWithin = TimeSpan.FromSeconds(5);
    private const int Writers = 4;
    private OutageSystem _system = null!;

    public async Task InitializeAsync() => _system = await OutageSystem.StartAsync();

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task AStoppedDatabaseAnswers503EverywhereThenWritesResumeWithNothingAcknowledgedLost()
    {
        using var admin = _system.Client(OutageSystem.AdminKey);
        var projectId = (await (await admin.PostAsJsonAsync("/api/projects", new { name = "outage" })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        using var client = _system.Client(await NewKeyAsync(admin, projectId));
        // Created before the stop, first used during it: no silo has seen it.
        using var unseenKeyClient = _system.Client(await NewKeyAsync(admin, projectId));
        var runId = await client.CreateRunWhenReadyAsync();
        var run = $"/api/optimization/runs/{runId}";
        await (await client.PostJsonAsync($"{run}/samples", HttpJson.Samples(0, 0, 5))).JsonAsync(HttpStatusCode.OK);

        var writers = new List<SampleWriter>();
        for (var i = 0; i < Writers; i++)
        {
            writers.Add(new SampleWriter(client, await client.CreateRunWhenReadyAsync()));
        }

        using var stopWriting = new CancellationTokenSource();
        var writing = writers.Select(w => Task.Run(() => w.RunAsync(stopWriting.Token))).ToList();
        await UntilAsync(() => writers.All(w => w.Batches >= 3), "every writer had batches acknowledged before the stop");
        var acknowledgedBeforeStop = writers.ToDictionary(w => w.RunId, w => w.Acknowledged);

        var stopping = Stopwatch.StartNew();
        await _system.Database.StopAsync();
        output.WriteLine($"database stopped in {stopping.ElapsedMilliseconds} ms");
        // Past the key cache's fresh window, as in any outage longer than a few seconds: every key check meets the database.
        await Task.Delay(ApiKeyGrain.CacheFor + TimeSpan.FromSeconds(1));

        await ExpectUnavailableAsync("POST samples", () => client.PostJsonAsync($"{run}/samples", HttpJson.Samples(1, 0, 5)));
        await ExpectUnavailableAsync("POST iteration", () => client.PostJsonAsync($"{run}/iterations", new { iteration = 1, kind = "minibatch", score = 0.5 }));
        // Progress to an active running run is accepted in its grain's memory and written when the database is back
        // (it is not a sample: README, "Progress is not a sample"); it may answer 503, but never a 500.
        using (var progress = await TimedAsync("POST progress", () => client.PostJsonAsync($"{run}/progress", new { phase = "searching", currentIteration = 1 })))
        {
            Assert.True(progress.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"POST progress: {(int)progress.StatusCode} {await progress.Content.ReadAsStringAsync()}");
        }

        await ExpectUnavailableAsync("GET run list", () => client.GetAsync("/api/optimization/runs"));
        await ExpectUnavailableAsync("GET samples", () => client.GetAsync($"{run}/samples"));
        await ExpectUnavailableAsync("GET iterations", () => client.GetAsync($"{run}/iterations"));
        await ExpectUnavailableAsync("GET analytics", () => client.GetAsync("/api/optimization/analytics"));
        await ExpectUnavailableAsync("POST project (admin)", () => admin.PostAsJsonAsync("/api/projects", new { name = "during-outage" }));
        await ExpectUnavailableAsync("POST api key (admin)", () => admin.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "during-outage" }));
        await ExpectUnavailableAsync("GET run list, key not yet seen", () => unseenKeyClient.GetAsync("/api/optimization/runs"));
        // The run's grain holds the run in memory: it may answer from there, but never with a 500.
        using var live = await TimedAsync("GET run (active)", () => client.GetAsync(run));
        Assert.True(live.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"GET run: {(int)live.StatusCode} {await live.Content.ReadAsStringAsync()}");
        await ExpectReadinessSaysDatabaseAsync();
        Assert.Equal(HttpStatusCode.OK, (await _system.Client().GetAsync("/health/live")).StatusCode);
        await UntilAsync(() => writers.All(w => w.Unavailable > 0), "every writer was answered 503 during the outage");

        await _system.Database.StartAsync();
        var restarted = Stopwatch.StartNew();
        var resumed = await UntilSucceededAsync("POST samples", () => client.PostJsonAsync($"{run}/samples", HttpJson.Samples(1, 0, 5)));
        output.WriteLine($"first write acknowledged {restarted.ElapsedMilliseconds} ms after the database accepted connections again");
        var batch = await resumed.JsonAsync(HttpStatusCode.OK);
        Assert.Equal(5, batch.GetProperty("inserted").GetInt32()); // the 503'd batch had stored nothing
        await UntilSucceededAsync("POST iteration", () => client.PostJsonAsync($"{run}/iterations", new { iteration = 1, kind = "minibatch", score = 0.5 }));
        await UntilSucceededAsync("POST progress", () => client.PostJsonAsync($"{run}/progress", new { phase = "searching", currentIteration = 1 }));
        await UntilSucceededAsync("GET analytics", () => client.GetAsync("/api/optimization/analytics"));
        await UntilSucceededAsync("POST project (admin)", () => admin.PostAsJsonAsync("/api/projects", new { name = "after-outage" }));
        await UntilSucceededAsync("GET run list, key not yet seen", () => unseenKeyClient.GetAsync("/api/optimization/runs"));
        Assert.Equal(HttpStatusCode.OK, (await _system.Client().GetAsync("/health/ready")).StatusCode);
        output.WriteLine($"every probed request succeeded again within {restarted.ElapsedMilliseconds} ms of the restart");

        var batchesAtRestart = writers.ToDictionary(w => w.RunId, w => w.Batches);
        await UntilAsync(() => writers.All(w => w.Batches >= batchesAtRestart[w.RunId] + 3), "every writer had batches acknowledged after the restart");
        await stopWriting.CancelAsync();
        await Task.WhenAll(writing).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(writers, w => Assert.True(w.Unexpected.Count == 0, $"run {w.RunId}:\n{string.Join('\n', w.Unexpected.Take(5))}"));
        output.WriteLine($"writers: {writers.Sum(w => w.Batches)} batches acknowledged, {writers.Sum(w => w.Unavailable)} answers 503");
        await using var database = await _system.Database.OpenOwnerAsync();
        foreach (var writer in writers)
        {
            var stored = (await database.QueryAsync<(int Iteration, int SampleIndex)>(
                "SELECT iteration, sample_index FROM optimization_samples WHERE run_id = @RunId", new { writer.RunId })).ToList();
            Assert.Equal(writer.Acknowledged.Count, stored.Count);
            Assert.Equal(writer.Acknowledged.ToHashSet(), stored.ToHashSet());
            Assert.Subset(stored.ToHashSet(), acknowledgedBeforeStop[writer.RunId].ToHashSet());
            var view = await client.GetRunAsync(writer.RunId);
            Assert.Equal(stored.Count, view.GetProperty("samplesEvaluated").GetInt32());
        }

        Assert.DoesNotContain("Could not find a codec", _system.Output);
    }

    // A run whose grain is not in memory must be activated, and its activation reads grain storage: Orleans answers a
    // failed activation with its own OrleansException around the grains' StorageUnavailableException (what no call
    // filter sees: DatabaseErrorCodec puts the typed error inside). The gateway must look inside to answer 503.
    [Fact]
    public async Task ARunNotInMemoryAnswers503WhileTheDatabaseIsDown()
    {
        using var admin = _system.Client(OutageSystem.AdminKey);
        var projectId = (await (await admin.PostAsJsonAsync("/api/projects", new { name = "outage" })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        using var client = _system.Client(await NewKeyAsync(admin, projectId));
        await client.GetAsync("/api/optimization/runs");  // the key is known to the silo before the stop

        await _system.Database.StopAsync();

        var runId = Guid.NewGuid();
        await ExpectUnavailableAsync("GET run (not in memory)", () => client.GetAsync($"/api/optimization/runs/{runId}"));
        await ExpectUnavailableAsync("POST samples (run not in memory)",
            () => client.PostJsonAsync($"/api/optimization/runs/{Guid.NewGuid()}/samples", HttpJson.Samples(0, 0, 1)));

        await _system.Database.StartAsync();
        // Orleans keeps a failed activation for 5 s before the grain may activate again.
        var restarted = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync($"/api/optimization/runs/{runId}");
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                break;
            }

            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && restarted.Elapsed < TimeSpan.FromSeconds(10),
                $"GET run after the restart: {(int)response.StatusCode} after {restarted.Elapsed.TotalSeconds:0.0} s");
            await Task.Delay(100);
        }

        output.WriteLine($"GET run (not in memory): 404 {restarted.ElapsedMilliseconds} ms after the restart");

        // The activations that failed during the outage are not counted as active runs: the silo's gauge settles on
        // the run grains Orleans holds (a failed activation was counted and never uncounted before).
        var settle = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await _system.SiloMetricsAsync();
            var (counted, held) = (MetricSum(metrics, "optruns_runs_active"), MetricSum(metrics, "orleans_catalog_activations", "grain_type=\"run\""));
            if (counted == held)
            {
                break;
            }

            Assert.True(settle.Elapsed < TimeSpan.FromSeconds(30), $"optruns_runs_active is {counted}, Orleans holds {held} run grains");
            await Task.Delay(500);
        }
    }

    // The sum of a metric's series in a Prometheus scrape, of those whose labels contain <paramref name="label"/>.
    private static double MetricSum(string scrape, string name, string label = "") => scrape.Split('\n')
        .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
        .Where(line => line.Contains(label, StringComparison.Ordinal))
        .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<string> NewKeyAsync(HttpClient admin, Guid projectId) =>
        (await (await admin.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "outage" })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString()!;

    private async Task<HttpResponseMessage> TimedAsync(string what, Func<Task<HttpResponseMessage>> send)
    {
        var watch = Stopwatch.StartNew();
        var response = await send();
        output.WriteLine($"{what}: {(int)response.StatusCode} in {watch.ElapsedMilliseconds} ms");
        Assert.True(watch.Elapsed < AnswerWithin, $"{what} took {watch.Elapsed.TotalSeconds:0.0} s");
        return response;
    }

    private async Task ExpectUnavailableAsync(string what, Func<Task<HttpResponseMessage>> send)
    {
        using var response = await TimedAsync(what, send);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what}: expected 503, got {(int)response.StatusCode}: {body}\n{Tail(_system.Output)}");
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"{what}: Retry-After is {response.Headers.RetryAfter}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(503, JsonDocument.Parse(body).RootElement.GetProperty("status").GetInt32());
    }

    private async Task ExpectReadinessSaysDatabaseAsync()
    {
        using var response = await TimedAsync("GET /health/ready", () => _system.Client().GetAsync("/health/ready"));
        var body = await response.JsonAsync(HttpStatusCode.ServiceUnavailable);
        Assert.False(body.GetProperty("databaseReachable").GetBoolean());
        Assert.True(body.GetProperty("siloReachable").GetBoolean());
        Assert.StartsWith("database unavailable", body.GetProperty("error").GetString());
    }

    private async Task<HttpResponseMessage> UntilSucceededAsync(string what, Func<Task<HttpResponseMessage>> send)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var response = await send();
            if (response.IsSuccessStatusCode)
            {
                output.WriteLine($"{what}: {(int)response.StatusCode} after {watch.ElapsedMilliseconds} ms");
                return response;
            }

            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what} after the restart: {(int)response.StatusCode} {body}");
            Assert.True(watch.Elapsed < ResumeWithin, $"{what} still answers 503 {watch.Elapsed.TotalSeconds:0.0} s after the restart: {body}");
            response.Dispose();
            await Task.Delay(100);
        }
    }

    private async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting until {what}\n{Tail(_system.Output)}");
            await Task.Delay(50);
        }
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : text[^6000..];
}
