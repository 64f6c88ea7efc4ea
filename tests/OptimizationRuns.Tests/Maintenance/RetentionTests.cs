using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using OptimizationRuns.Grains.Maintenance;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using Xunit;

namespace OptimizationRuns.Tests.Maintenance;

/// <summary>
/// Retention end to end: the policy through the admin API, and a purge pass that exports each expired run in the
/// export's JSONL format and only then deletes it, in bounded batches, leaving running and recent runs alone.
/// </summary>
public sealed class RetentionTests(RetentionFixture fixture) : IClassFixture<RetentionFixture>
{
    private IRetentionGrain Retention => fixture.Client.GetGrain<IRetentionGrain>(0);

    [Fact]
    public async Task RetentionIsSetAndReadThroughTheAdminApiAndBadValuesAreRefused()
    {
        using var admin = fixture.WithKey(RetentionFixture.AdminKey);
        var (projectId, _) = await NewProjectAsync(admin);
        var retention = $"/api/projects/{projectId}/retention";

        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await (await admin.GetAsync(retention)).JsonAsync(HttpStatusCode.OK)).GetProperty("retentionDays").ValueKind);
        Assert.Equal(30, (await (await admin.PutAsJsonAsync(retention, new { retentionDays = 30 })).JsonAsync(HttpStatusCode.OK)).GetProperty("retentionDays").GetInt32());
        Assert.Equal(30, (await (await admin.GetAsync(retention)).JsonAsync(HttpStatusCode.OK)).GetProperty("retentionDays").GetInt32());

        await (await admin.PutAsJsonAsync(retention, new { retentionDays = 0 })).ProblemAsync(HttpStatusCode.BadRequest, "retentionDays");
        await (await admin.PutAsJsonAsync(retention, new { retentionDays = 36501 })).ProblemAsync(HttpStatusCode.BadRequest, "retentionDays");
        Assert.Equal(30, (await (await admin.GetAsync(retention)).JsonAsync(HttpStatusCode.OK)).GetProperty("retentionDays").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync($"/api/projects/{Guid.NewGuid()}/retention", new { retentionDays = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/projects/{Guid.NewGuid()}/retention")).StatusCode);
        await (await admin.PutAsJsonAsync(retention, new { retentionDays = (int?)null })).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await (await admin.GetAsync(retention)).JsonAsync(HttpStatusCode.OK)).GetProperty("retentionDays").ValueKind);
    }

    [Fact]
    public async Task AProjectKeyCannotSetRetention()
    {
        using var admin = fixture.WithKey(RetentionFixture.AdminKey);
        var (projectId, key) = await NewProjectAsync(admin);
        using var client = fixture.WithKey(key);

        var answer = await client.PutAsJsonAsync($"/api/projects/{projectId}/retention", new { retentionDays = 1 });

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
    }

    [Fact]
    public async Task AnExpiredRunIsExportedAsTheExportApiWritesItThenDeletedAndOthersStay()
    {
        using var admin = fixture.WithKey(RetentionFixture.AdminKey);
        var (projectId, key) = await NewProjectAsync(admin);
        using var client = fixture.WithKey(key);
        var expired = await FinishedRunAsync(client, samples: 120);
        var recent = await FinishedRunAsync(client, samples: 10);
        var running = await client.CreateRunAsync();
        await (await client.PatchAsJsonAsync($"/api/optimization/runs/{running}", new { status = "running" })).JsonAsync(HttpStatusCode.OK);
        await EndedDaysAgoAsync(expired, 40);
        var exportedSamples = await ExportLinesAsync(client, expired, "samples");
        var exportedIterations = await ExportLinesAsync(client, expired, "iterations");
        await (await admin.PutAsJsonAsync($"/api/projects/{projectId}/retention", new { retentionDays = 30 })).JsonAsync(HttpStatusCode.OK);

        var pass = await Retention.PurgeAsync();

        Assert.True(pass.Runs >= 1, $"{pass}");
        var folder = Path.Combine(fixture.ExportDirectory, projectId.ToString(), expired.ToString());
        AssertSameLines(exportedSamples, await File.ReadAllLinesAsync(Path.Combine(folder, "samples.jsonl")));
        AssertSameLines(exportedIterations, await File.ReadAllLinesAsync(Path.Combine(folder, "iterations.jsonl")));
        Assert.Equal(expired, JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "run.json")))!["id"]!.GetValue<Guid>());
        Assert.Empty(Directory.GetFiles(folder, "*.partial"));
        Assert.Equal(120, exportedSamples.Length);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/optimization/runs/{expired}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/optimization/runs/{recent}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/optimization/runs/{running}")).StatusCode);
        await using var owner = await TestDatabase.OpenOwnerAsync();
        Assert.Equal(0, await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_samples WHERE run_id = @expired", new { expired }));
        Assert.Equal(10, await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_samples WHERE run_id = @recent", new { recent }));
    }

    [Fact]
    public async Task APassTakesABoundedBatchAndTheNextPassesTakeTheRest()
    {
        using var admin = fixture.WithKey(RetentionFixture.AdminKey);
        var (projectId, key) = await NewProjectAsync(admin);
        using var client = fixture.WithKey(key);
        var runs = new List<Guid>();
        for (var i = 0; i < RetentionFixture.RunsPerPass + 2; i++)
        {
            var run = await FinishedRunAsync(client, samples: 5);
            await EndedDaysAgoAsync(run, 10 + i);
            runs.Add(run);
        }

        await (await admin.PutAsJsonAsync($"/api/projects/{projectId}/retention", new { retentionDays = 7 })).JsonAsync(HttpStatusCode.OK);

        var first = await Retention.PurgeAsync();
        Assert.Equal(RetentionFixture.RunsPerPass, first.Runs);
        Assert.True(first.More);
        var remaining = await CountRunsAsync(projectId);
        Assert.Equal(2, remaining);

        while ((await Retention.PurgeAsync()).More)
        {
        }

        Assert.Equal(0, await CountRunsAsync(projectId));
        Assert.All(runs, run => Assert.True(File.Exists(Path.Combine(fixture.ExportDirectory, projectId.ToString(), run.ToString(), "samples.jsonl"))));
    }

    [Fact]
    public async Task APurgeKeepsItsPaceInSamplesPerSecond()
    {
        using var admin = fixture.WithKey(RetentionFixture.AdminKey);
        var (projectId, key) = await NewProjectAsync(admin);
        using var client = fixture.WithKey(key);
        const int samples = 2_000;
        var run = await FinishedRunAsync(client, samples);
        await EndedDaysAgoAsync(run, 30);
        await (await admin.PutAsJsonAsync($"/api/projects/{projectId}/retention", new { retentionDays = 7 })).JsonAsync(HttpStatusCode.OK);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var pass = await Retention.PurgeAsync();

        Assert.Equal(samples, pass.Samples);
        Assert.Equal(0, await CountRunsAsync(projectId));
        // 2,000 samples at 1,000 a second: unpaced, this run's export and delete take a small fraction of that.
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(samples / (double)RetentionFixture.SamplesPerSecond) - TimeSpan.FromMilliseconds(50),
            $"purged {samples} samples in {started.Elapsed.TotalMilliseconds:0} ms");
    }

    private static async Task<(Guid ProjectId, string Key)> NewProjectAsync(HttpClient admin)
    {
        var project = await (await admin.PostAsJsonAsync("/api/projects", new { name = $"retention-{Guid.NewGuid():N}" })).JsonAsync(HttpStatusCode.Created);
        var projectId = project.GetProperty("id").GetGuid();
        var key = await (await admin.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "test" })).JsonAsync(HttpStatusCode.Created);
        return (projectId, key.GetProperty("key").GetString()!);
    }

    private static async Task<Guid> FinishedRunAsync(HttpClient client, int samples)
    {
        var run = await client.CreateRunAsync();
        var url = $"/api/optimization/runs/{run}";
        await (await client.PatchAsJsonAsync(url, new { status = "running" })).JsonAsync(HttpStatusCode.OK);
        (await client.PostJsonAsync($"{url}/iterations", new { iteration = 1, kind = "baseline", score = 0.5 })).EnsureSuccessStatusCode();
        await (await client.PostJsonAsync($"{url}/samples", HttpJson.Samples(1, 0, samples))).JsonAsync(HttpStatusCode.OK);
        await (await client.PatchAsJsonAsync(url, new { status = "completed", finalScore = 0.5 })).JsonAsync(HttpStatusCode.OK);
        return run;
    }

    // Time passing, as the owner: the run started and ended that many days ago.
    private static async Task EndedDaysAgoAsync(Guid runId, int days)
    {
        await using var owner = await TestDatabase.OpenOwnerAsync();
        await owner.ExecuteAsync("""
            UPDATE optimization_runs SET start_time = now() - make_interval(days => @days, hours => 1),
                                         end_time = now() - make_interval(days => @days) WHERE id = @runId
            """, new { runId, days });
    }

    private static async Task<long> CountRunsAsync(Guid projectId)
    {
        await using var owner = await TestDatabase.OpenOwnerAsync();
        return await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_runs WHERE project_id = @projectId", new { projectId });
    }

    private static async Task<string[]> ExportLinesAsync(HttpClient client, Guid runId, string what)
    {
        var body = await client.GetStringAsync($"/api/optimization/runs/{runId}/export?format=jsonl&what={what}");
        return body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static void AssertSameLines(string[] expected, string[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected[i]), JsonNode.Parse(actual[i])), $"line {i}:\n{expected[i]}\n{actual[i]}");
        }
    }
}
