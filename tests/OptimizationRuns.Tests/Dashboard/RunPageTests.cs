using Microsoft.Playwright;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>The run page: MIPROv2 semantics in the header and chart, and live updates from the run's event stream.</summary>
[Collection(DashboardCollection.Name)]
public sealed class RunPageTests(DashboardFixture fixture)
{
    private static readonly LocatorAssertionsToBeVisibleOptions Soon = new() { Timeout = 5_000 };

    private static ILocator Row(IPage page, int iteration) => page.Locator($"#trials tr[data-iteration='{iteration}']");

    private static Task<bool> PointDrawnAsync(IPage page, int iteration) =>
        page.EvaluateAsync<bool>($"performance.getEntriesByName('trajectory-point-{iteration}').length > 0");

    [Fact]
    public async Task TheBestScoreComesFromFullEvaluationsAndTheChartShowsEveryTrial()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.FinishedAsync(api, "semantics", baseline: 0.4, best: 0.7);
        var page = await fixture.SignedInPageAsync(key);

        await page.GotoAsync($"/runs/{run.RunId}");

        // Trial 3 scored 0.8 on a minibatch; the best is the full evaluation's 0.7.
        await Assertions.Expect(page.Locator("#best-score")).ToHaveTextAsync("0.700");
        await Assertions.Expect(page.Locator("#trajectory canvas")).ToBeVisibleAsync();
        Assert.Equal(6, await page.Locator("#trials tbody tr[data-iteration]").CountAsync());
        await Assertions.Expect(Row(page, 6)).ToHaveClassAsync("is-best");
        await Assertions.Expect(Row(page, 3).Locator(".chip")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("Think step by step"));
        await Assertions.Expect(page.Locator("#candidates")).ToContainTextAsync("Think step by step, then answer with a short phrase.");
        await Assertions.Expect(page.Locator("#compare-baseline")).ToHaveAttributeAsync("href", $"/compare?a={run.RunId}&b={run.RunId}&aIteration=1&bIteration=6");
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        foreach (var view in new[] { "Score by time", "Cumulative cost", "Score by trial" })
        {
            await page.GetByRole(AriaRole.Button, new() { Name = view }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = view })).ToHaveAttributeAsync("aria-pressed", "true");
            await Assertions.Expect(page.Locator("#trajectory canvas")).ToBeVisibleAsync();
        }

        Assert.Empty(errors);
        await page.SetViewportSizeAsync(1280, 1400);
        await Screenshots.SaveAsync(page, "run");
    }

    [Fact]
    public async Task AQuietRunsPageSaysItIsLiveBeforeAnyNewEvent()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.CreateAsync(api, "quiet but live", trials: 10);
        await run.StartAsync();
        await run.TrialAsync(1, "baseline", 0.4);
        var page = await fixture.SignedInPageAsync(key);

        await page.GotoAsync($"/runs/{run.RunId}");

        // The stream opens (its headers arrive) before the run has anything new to say.
        await Assertions.Expect(page.Locator("#live-state")).ToHaveTextAsync("live", new() { Timeout = 3_000 });
    }

    [Fact]
    public async Task ATrialPostedWhileThePageIsOpenAppearsAsAPointAndARow()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.CreateAsync(api, "live", trials: 10);
        await run.StartAsync();
        await run.TrialAsync(1, "baseline", 0.4, instruction: 0);
        var page = await fixture.SignedInPageAsync(key);
        await page.GotoAsync($"/runs/{run.RunId}");
        await Assertions.Expect(page.Locator("#live-state")).ToHaveTextAsync("live");

        await run.ProgressAsync("searching", 2, "trial 2/10");
        await run.TrialAsync(2, "minibatch", 0.6, samples: 5);

        await Assertions.Expect(Row(page, 2)).ToBeVisibleAsync(Soon);
        Assert.True(await PointDrawnAsync(page, 2));
        await Assertions.Expect(page.Locator("#run-message")).ToContainTextAsync("trial 2/10", new() { Timeout = 5_000 });
        Assert.Contains("\"iteration\":[1,2]", await page.Locator("#trajectory-data").TextContentAsync());

        await run.TrialAsync(3, "full", 0.55);
        await Assertions.Expect(page.Locator("#best-score")).ToHaveTextAsync("0.550", new() { Timeout = 5_000 });
        await Assertions.Expect(Row(page, 3)).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("is-best"));
    }

    [Fact]
    public async Task PausedPagesHoldStillAndCatchUpOnResume()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.CreateAsync(api, "pause", trials: 10);
        await run.StartAsync();
        await run.TrialAsync(1, "baseline", 0.4);
        var page = await fixture.SignedInPageAsync(key);
        await page.GotoAsync($"/runs/{run.RunId}");
        await Assertions.Expect(page.Locator("#live-state")).ToHaveTextAsync("live");

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause live updates" }).ClickAsync();
        await Assertions.Expect(page.Locator("#live-state")).ToHaveTextAsync("paused");
        await run.TrialAsync(2, "minibatch", 0.5, samples: 5);
        // Nothing to wait on for an absence: give a live page ample time to have shown it.
        await Task.Delay(1500);
        Assert.Equal(0, await Row(page, 2).CountAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume live updates" }).ClickAsync();
        await Assertions.Expect(Row(page, 2)).ToBeVisibleAsync(Soon);
        await run.TrialAsync(3, "minibatch", 0.7, samples: 5);
        await Assertions.Expect(Row(page, 3)).ToBeVisibleAsync(Soon);
    }

    [Fact]
    public async Task ASilentRunShowsStalledAndRunningAgainOnItsNextHeartbeat()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.CreateAsync(api, "quiet", trials: 10);
        await run.StartAsync();
        var page = await fixture.SignedInPageAsync(key);
        await page.GotoAsync($"/runs/{run.RunId}");
        await Assertions.Expect(page.Locator("#run-header [data-status]")).ToHaveTextAsync("● running");

        // The grain marks a run stalled after Runs:StallAfter without a heartbeat or write (4 s here).
        await Assertions.Expect(page.Locator("#run-header [data-status]"))
            .ToHaveTextAsync("⚠ stalled", new() { Timeout = (float)(DashboardFixture.StallAfter + TimeSpan.FromSeconds(8)).TotalMilliseconds });
        await Screenshots.SaveAsync(page, "run-stalled");

        await run.ProgressAsync("searching", 1, "back");
        await Assertions.Expect(page.Locator("#run-header [data-status]")).ToHaveTextAsync("● running", new() { Timeout = 5_000 });
    }
}
