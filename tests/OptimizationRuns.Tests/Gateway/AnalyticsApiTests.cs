using System.Net;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;
using static OptimizationRuns.Tests.Gateway.ReadSideDriver;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>Run summary, leaderboard and project analytics through real HTTP.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AnalyticsApiTests(GatewayFixture fixture)
{
    private const string Leaderboard = "/api/optimization/leaderboard";
    private const string Analytics = "/api/optimization/analytics";

    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    private static decimal? Decimal(JsonElement item, string field) =>
        item.GetProperty(field) is { ValueKind: not JsonValueKind.Null } value ? value.GetDecimal() : null;

    [Fact]
    public async Task SummaryReportsScoresIterationsSamplesAndTiming()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("summarised", baselineScore: 0.5m, totalIterations: 3);
        await p.RecordIterationAsync(run, 0, "baseline", 0.5m);
        await p.RecordIterationAsync(run, 1, "minibatch", 0.7m);
        await p.RecordIterationAsync(run, 2, "full", 0.65m);
        await p.RecordSamplesAsync(run, Enumerable.Range(0, 4).Select(i => (object)new
        {
            iteration = 1, sampleIndex = i, success = i != 3, score = i == 3 ? 0m : 1m, promptTokens = 100, completionTokens = 10,
            costUsd = 0.01m, latencyMs = 50.0,
        }));
        await p.CompleteAsync(run, 0.66m);

        var summary = await p.GetAsync($"/api/optimization/runs/{run}/summary");

        Assert.Equal(run, summary.GetProperty("runId").GetGuid());
        Assert.Equal("summarised", summary.GetProperty("runName").GetString());
        Assert.Equal("miprov2", summary.GetProperty("optimizerType").GetString());
        Assert.Equal("completed", summary.GetProperty("status").GetString());
        Assert.Equal<decimal?>([0.5m, 0.65m, 0.7m, 0.66m, 0.16m, 32m, 0.75m],
            new[] { "baselineScore", "bestScore", "bestMinibatchScore", "finalScore", "improvement", "improvementPct", "successRate" }
                .Select(f => Decimal(summary, f)));
        Assert.Equal((2, 3, 3), (summary.GetProperty("bestIteration").GetInt32(), summary.GetProperty("totalIterations").GetInt32(),
            summary.GetProperty("completedIterations").GetInt32()));
        var byKind = summary.GetProperty("iterationsByKind").EnumerateObject().ToDictionary(k => k.Name, k => k.Value.GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["baseline"] = 1, ["minibatch"] = 1, ["full"] = 1 }, byKind);
        Assert.Equal((4L, 3L, 1L, 440L), (summary.GetProperty("samplesEvaluated").GetInt64(), summary.GetProperty("samplesSuccessful").GetInt64(),
            summary.GetProperty("samplesFailed").GetInt64(), summary.GetProperty("totalTokens").GetInt64()));
        Assert.Equal(0.04m, summary.GetProperty("costUsd").GetDecimal());
        Assert.Equal(50.0, summary.GetProperty("avgLatencyMs").GetDouble());
        var start = summary.GetProperty("startTime").GetDateTime();
        var end = summary.GetProperty("endTime").GetDateTime();
        Assert.EndsWith("Z", summary.GetProperty("endTime").GetString());
        Assert.True(end >= start);
        Assert.Equal((long)Math.Round((end - start).TotalMilliseconds), summary.GetProperty("durationMs").GetInt64(), tolerance: 1);
    }

    [Fact]
    public async Task SummaryOfAnotherProjectsOrAnUnknownRunIsNotFound()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var run = await owner.CreateRunAsync("private");

        await stranger.GetProblemAsync($"/api/optimization/runs/{run}/summary", HttpStatusCode.NotFound);
        await owner.GetProblemAsync($"/api/optimization/runs/{Guid.NewGuid()}/summary", HttpStatusCode.NotFound);
        Assert.Equal(run, (await owner.GetAsync($"/api/optimization/runs/{run}/summary")).GetProperty("runId").GetGuid());
    }

    [Fact]
    public async Task LeaderboardListsOnlyCompletedRunsByFinalScore()
    {
        var p = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var good = await p.CreateRunAsync("good");
        await p.CompleteAsync(good, 0.7m);
        var best = await p.CreateRunAsync("best");
        await p.CompleteAsync(best, 0.9m);
        var gepa = await p.CreateRunAsync("gepa", "gepa");
        await p.CompleteAsync(gepa, 0.8m);
        var running = await p.CreateRunAsync("running, best 0.95");
        await p.RecordIterationAsync(running, 0, "full", 0.95m);
        var failed = await p.CreateRunAsync("failed");
        await p.PatchAsync(failed, new { status = "failed", errorMessage = "boom" });
        await p.CreateRunAsync("pending");
        var theirs = await stranger.CreateRunAsync("theirs");
        await stranger.CompleteAsync(theirs, 0.99m);

        var board = await p.GetAsync(Leaderboard);

        Assert.Equal([best, gepa, good], Ids(board));
        Assert.Equal([0.9m, 0.8m, 0.7m], board.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("finalScore").GetDecimal()));
        Assert.All(board.GetProperty("items").EnumerateArray(), i => Assert.Equal("completed", i.GetProperty("status").GetString()));
        Assert.Equal([best, good], Ids(await p.GetAsync($"{Leaderboard}?optimizerType=miprov2")));
        Assert.Equal([best, gepa], Ids(await p.GetAsync($"{Leaderboard}?limit=2")));
        Assert.Equal([theirs], Ids(await stranger.GetAsync(Leaderboard)));
    }

    [Theory]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("optimizerType=MIPROv2", "optimizerType")]
    public async Task InvalidLeaderboardQueryIsAProblemNamingTheParameter(string query, string field)
    {
        var p = await NewProjectAsync();
        await p.ExpectInvalidAsync($"{Leaderboard}?{query}", field);
    }

    [Fact]
    public async Task AnalyticsAfterARefreshCountOnlyTheProjectsRuns()
    {
        var p = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var completed = await p.CreateRunAsync("m1", baselineScore: 0.5m);
        await p.CompleteAsync(completed, 0.8m);
        var other = await p.CreateRunAsync("m2", baselineScore: 0.5m);
        await p.CompleteAsync(other, 0.6m);
        var running = await p.CreateRunAsync("m3");
        await p.StartAsync(running);
        var failed = await p.CreateRunAsync("g1", "gepa");
        await p.PatchAsync(failed, new { status = "failed", errorMessage = "boom" });
        await stranger.CreateRunAsync("theirs", "copro");
        await stranger.CreateRunAsync("theirs too");

        var refreshed = await p.PostAsync($"{Analytics}/refresh");
        var read = await p.GetAsync(Analytics);

        // The view may have been refreshed again since (other projects' tests); this project's rows are the same.
        Assert.Equal(refreshed.GetProperty("items").GetRawText(), read.GetProperty("items").GetRawText());
        var rows = read.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["gepa", "miprov2"], rows.Select(r => r.GetProperty("optimizerType").GetString()));
        var gepa = rows[0];
        Assert.Equal((1L, 1L, 0L), (gepa.GetProperty("totalRuns").GetInt64(), gepa.GetProperty("failedRuns").GetInt64(),
            gepa.GetProperty("completedRuns").GetInt64()));
        var mipro = rows[1];
        Assert.Equal((3L, 2L, 1L, 0L, 0L), (mipro.GetProperty("totalRuns").GetInt64(), mipro.GetProperty("completedRuns").GetInt64(),
            mipro.GetProperty("runningRuns").GetInt64(), mipro.GetProperty("pendingRuns").GetInt64(), mipro.GetProperty("failedRuns").GetInt64()));
        Assert.Equal<decimal?>([0.7m, 0.8m, 0.2m], [Decimal(mipro, "avgFinalScore"), Decimal(mipro, "maxFinalScore"), Decimal(mipro, "avgImprovement")]);
        var refreshedAt = read.GetProperty("refreshedAt").GetDateTime();
        Assert.True(refreshedAt > DateTime.UtcNow.AddMinutes(-1), $"refreshed at {refreshedAt:O}");

        var theirs = (await stranger.GetAsync(Analytics)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["copro", "miprov2"], theirs.Select(r => r.GetProperty("optimizerType").GetString()));
        Assert.All(theirs, r => Assert.Equal(1L, r.GetProperty("totalRuns").GetInt64()));
    }

    [Fact]
    public async Task ConcurrentRefreshesAllSeeTheRunsCommittedBeforeThem()
    {
        var p = await NewProjectAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            await p.CreateRunAsync($"run {i}");
            return await p.PostAsync($"{Analytics}/refresh");
        }));

        // Each caller's refresh started after its own run was committed; the last run's caller sees all six.
        Assert.All(answers, a => Assert.Equal(1, a.GetProperty("items").GetArrayLength()));
        var totals = answers.Select(a => a.GetProperty("items")[0].GetProperty("totalRuns").GetInt64()).ToList();
        Assert.All(totals, total => Assert.InRange(total, 1L, 6L));
        Assert.Equal(6L, totals.Max());
        Assert.Equal(6L, (await p.GetAsync(Analytics)).GetProperty("items")[0].GetProperty("totalRuns").GetInt64());
    }

    [Fact]
    public async Task TheOpenApiDocumentListsEveryReadEndpointWithItsProblems()
    {
        using var client = fixture.Gateway.CreateClient();
        var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths");

        foreach (var (path, operationId, statuses) in new (string, string, string[])[]
                 {
                     ("/api/optimization/runs", "ListRuns", ["200", "400", "401", "403", "503"]),
                     ("/api/optimization/runs/{runId}/iterations", "ListIterations", ["200", "400", "401", "403", "404", "503"]),
                     ("/api/optimization/runs/{runId}/iterations/best", "GetBestIteration", ["200", "401", "403", "404", "503"]),
                     ("/api/optimization/runs/{runId}/samples", "ListSamples", ["200", "400", "401", "403", "404", "503"]),
                     ("/api/optimization/traces/{traceId}/samples", "ListTraceSamples", ["200", "400", "401", "403", "404", "503"]),
                     ("/api/optimization/runs/{runId}/summary", "GetRunSummary", ["200", "401", "403", "404", "503"]),
                     ("/api/optimization/leaderboard", "GetLeaderboard", ["200", "400", "401", "403", "503"]),
                     ("/api/optimization/analytics", "GetAnalytics", ["200", "401", "403", "503"]),
                     ("/api/optimization/analytics/refresh", "RefreshAnalytics", ["200", "401", "403", "422", "503"]),
                 })
        {
            Assert.True(document.TryGetProperty(path, out var item), $"{path} is not in the OpenAPI document");
            var operation = item.EnumerateObject().Select(o => o.Value)
                .Single(o => o.TryGetProperty("operationId", out var id) && id.GetString() == operationId);
            Assert.True(operation.TryGetProperty("summary", out _), $"{operationId} has no summary");
            var answers = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order().ToList();
            Assert.Equal(statuses, answers);
        }
    }
}
