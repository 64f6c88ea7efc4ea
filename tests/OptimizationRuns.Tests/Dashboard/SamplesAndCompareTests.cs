using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>The sample explorer's filters and trace links; the comparison's buckets against the REST answer.</summary>
[Collection(DashboardCollection.Name)]
public sealed class SamplesAndCompareTests(DashboardFixture fixture)
{
    [Fact]
    public async Task SampleFiltersInTheUrlSelectTheSamplesTheApiAnswers()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.FinishedAsync(api, "samples");
        var page = await fixture.SignedInPageAsync(key);

        await page.GotoAsync($"/runs/{run.RunId}/samples?iteration=4&success=false");

        var expected = await RunScript.ReadAsync(
            await api.GetAsync($"/api/optimization/runs/{run.RunId}/samples?iteration=4&success=false&limit=50"), HttpStatusCode.OK);
        var rows = page.Locator("#samples tbody tr[data-iteration]");
        Assert.Equal(expected.GetProperty("items").GetArrayLength(), await rows.CountAsync());
        Assert.True(await rows.CountAsync() > 0);
        foreach (var row in await rows.AllAsync())
        {
            Assert.Equal("4", await row.GetAttributeAsync("data-iteration"));
            Assert.Equal("false", await row.GetAttributeAsync("data-success"));
        }

        await Assertions.Expect(rows.First).ToContainTextAsync("LM timed out");
        await Assertions.Expect(rows.First.Locator("del")).ToBeVisibleAsync();

        await page.GotoAsync($"/runs/{run.RunId}/samples");
        await page.GetByLabel("Min score").FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await page.WaitForURLAsync("**minScore=1**");
        var scores = await page.Locator("#samples tbody td.strong").AllInnerTextsAsync();
        Assert.NotEmpty(scores);
        Assert.All(scores, s => Assert.Equal("1.000", s));
        await Screenshots.SaveAsync(page, "samples");
    }

    [Fact]
    public async Task KindErrorsAndExampleFiltersFromTheFormSelectTheSamplesTheApiAnswers()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.FinishedAsync(api, "sample-kinds");
        var page = await fixture.SignedInPageAsync(key);
        var rows = page.Locator("#samples tbody tr[data-iteration]");

        async Task<List<(string?, string?)>> ShownAsync() =>
            [.. await Task.WhenAll((await rows.AllAsync()).Select(async r => (await r.GetAttributeAsync("data-iteration"), await r.Locator("code").InnerTextAsync())))];

        async Task<List<(string?, string?)>> AnsweredAsync(string query) =>
            [.. (await RunScript.ReadAsync(await api.GetAsync($"/api/optimization/runs/{run.RunId}/samples?{query}&limit=50"), HttpStatusCode.OK))
                .GetProperty("items").EnumerateArray()
                .Select(s => ((string?)s.GetProperty("iteration").GetInt32().ToString(), s.GetProperty("exampleId").GetString()))];

        // The full evaluations' errors: trials 4 and 6, each timing out on ex-9 only.
        await page.GotoAsync($"/runs/{run.RunId}/samples");
        await page.GetByLabel("Kind").SelectOptionAsync("full");
        await page.GetByLabel("Errors only").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("kind=full") && url.Contains("errorsOnly=true"));
        Assert.Equal([("4", "ex-9"), ("6", "ex-9")], await ShownAsync());
        Assert.Equal(await AnsweredAsync("kind=full&errorsOnly=true"), await ShownAsync());
        await Assertions.Expect(rows.First).ToContainTextAsync("LM timed out");
        await Assertions.Expect(page.GetByLabel("Kind")).ToHaveValueAsync("full");
        await Assertions.Expect(page.GetByLabel("Errors only")).ToBeCheckedAsync();

        // One example across the minibatch trials, from a link (the URL is the filter).
        await page.GotoAsync($"/runs/{run.RunId}/samples?kind=minibatch&exampleId=ex-4");
        Assert.Equal([("2", "ex-4"), ("3", "ex-4"), ("5", "ex-4")], await ShownAsync());
        Assert.Equal(await AnsweredAsync("kind=minibatch&exampleId=ex-4"), await ShownAsync());
        await Assertions.Expect(page.GetByLabel("Example id")).ToHaveValueAsync("ex-4");

        await page.GotoAsync($"/runs/{run.RunId}/samples?kind=trial");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("kind: Must be one of baseline, minibatch, full.");
        Assert.Empty(await ShownAsync());
    }

    [Fact]
    public async Task TraceLinksFollowTheConfiguredTemplate()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.CreateAsync(api, "traces");
        await run.StartAsync();
        await run.TrialAsync(1, "baseline", 0.5, samples: 2, traceId: "0af7651916cd43dd8448eb211c80319c");
        var page = await fixture.SignedInPageAsync(key);

        await page.GotoAsync($"/runs/{run.RunId}/samples");

        var link = page.Locator("#samples a.trace").First;
        await Assertions.Expect(link).ToHaveAttributeAsync("href", "http://traces.test/trace/0af7651916cd43dd8448eb211c80319c");
    }

    [Fact]
    public async Task CompareBucketsMatchTheApiAndFilterThePairs()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.FinishedAsync(api, "compare", baseline: 0.3, best: 0.8);
        var page = await fixture.SignedInPageAsync(key);
        await page.GotoAsync($"/runs/{run.RunId}");
        await page.Locator("#compare-baseline").ClickAsync();
        await page.WaitForURLAsync("**/compare**");

        var answer = await RunScript.ReadAsync(
            await api.GetAsync($"/api/optimization/compare?a={run.RunId}&b={run.RunId}&aIteration=1&bIteration=6"), HttpStatusCode.OK);
        foreach (var (bucket, field) in new[] { ("improved", "improved"), ("regressed", "regressed"), ("unchanged", "unchanged"), ("onlyA", "onlyA"), ("onlyB", "onlyB") })
        {
            await Assertions.Expect(page.Locator($".buckets a[data-bucket='{bucket}'] b")).ToHaveTextAsync(answer.GetProperty(field).GetInt32().ToString());
        }

        Assert.Equal(5, answer.GetProperty("improved").GetInt32());
        await Assertions.Expect(page.Locator("#mcnemar")).ToHaveTextAsync(Format(answer.GetProperty("mcnemarP")));
        await Screenshots.SaveAsync(page, "compare");

        await page.Locator(".buckets a[data-bucket='improved']").ClickAsync();
        await page.WaitForURLAsync("**bucket=improved**");
        var buckets = await page.Locator("#pairs tbody tr[data-bucket]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.bucket)");
        Assert.Equal(Enumerable.Repeat("improved", 5), buckets);
    }

    [Fact]
    public async Task LeaderboardAndAnalyticsShowTheApisAnswers()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        await RunScript.FinishedAsync(api, "low", best: 0.5);
        await RunScript.FinishedAsync(api, "high", best: 0.9);
        await RunScript.ReadAsync(await api.PostAsync("/api/optimization/analytics/refresh", null), HttpStatusCode.OK);
        var page = await fixture.SignedInPageAsync(key);

        await page.GotoAsync("/leaderboard");
        Assert.Equal(["high", "low"], await page.Locator("#leaderboard tbody td.name").AllInnerTextsAsync());
        await Screenshots.SaveAsync(page, "leaderboard");

        await page.GotoAsync("/analytics");
        var row = page.Locator("#analytics tbody tr").First;
        await Assertions.Expect(row).ToContainTextAsync("miprov2");
        await Assertions.Expect(row.Locator("td").Nth(6)).ToHaveTextAsync("0.700");
        await Screenshots.SaveAsync(page, "analytics");
    }

    private static string Format(JsonElement p) => OptimizationRuns.Gateway.Dashboard.Components.Format.P(p.GetDouble());
}
