using Microsoft.Playwright;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>The run list: filters and keyset paging live in the URL and answer what the REST list answers.</summary>
[Collection(DashboardCollection.Name)]
public sealed class RunListTests(DashboardFixture fixture)
{
    private static async Task<string[]> RunNamesAsync(IPage page) =>
        (await page.Locator("#runs tbody td.name a").AllInnerTextsAsync()).ToArray();

    [Fact]
    public async Task FiltersInTheUrlAndTheFormSelectTheSameRuns()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        await RunScript.FinishedAsync(api, "alpha finished", tags: ["qa", "gpt"]);
        await RunScript.FinishedAsync(api, "beta finished", baseline: 0.2, best: 0.3, tags: ["qa"]);
        var running = await RunScript.CreateAsync(api, "gamma running", tags: ["math"]);
        await running.StartAsync();
        var page = await fixture.SignedInPageAsync(key);

        Assert.Equal(["gamma running", "beta finished", "alpha finished"], await RunNamesAsync(page));
        await Screenshots.SaveAsync(page, "runs");

        await page.GotoAsync("/runs?status=completed&sort=-bestScore");
        Assert.Equal(["alpha finished", "beta finished"], await RunNamesAsync(page));
        await page.GotoAsync("/runs?tag=qa&tag=gpt");
        Assert.Equal(["alpha finished"], await RunNamesAsync(page));
        await page.GotoAsync("/runs?q=BETA");
        Assert.Equal(["beta finished"], await RunNamesAsync(page));
        await page.GotoAsync("/runs?minScore=0.5");
        Assert.Equal(["alpha finished"], await RunNamesAsync(page));

        // This fixture stalls a silent run after 4 s (for the stalled-badge test); on a busy machine the checks above
        // can take longer, so the run reports progress before it is looked for as running.
        await running.ProgressAsync("searching", 1, "still searching");
        await page.GotoAsync("/runs");
        await page.GetByLabel("Status").SelectOptionAsync("running");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await page.WaitForURLAsync("**status=running**");
        Assert.Equal(["gamma running"], await RunNamesAsync(page));
        await Assertions.Expect(page.Locator("#runs tbody tr").First.Locator("[data-status]")).ToHaveTextAsync("● running");
    }

    [Fact]
    public async Task PagesFollowTheNextCursorWithoutRepeatsOrGaps()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var names = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            names.Insert(0, $"run {i}");
            await RunScript.CreateAsync(api, $"run {i}");
        }

        var page = await fixture.SignedInPageAsync(key);
        await page.GotoAsync("/runs?limit=2");
        var seen = new List<string>(await RunNamesAsync(page));
        while (await page.Locator("#next-page").CountAsync() > 0)
        {
            await page.Locator("#next-page").ClickAsync();
            Assert.Contains("limit=2", page.Url);
            Assert.Contains("cursor=", page.Url);
            seen.AddRange(await RunNamesAsync(page));
        }

        Assert.Equal(names, seen);
        await page.Locator("#first-page").ClickAsync();
        Assert.Equal(names.Take(2), await RunNamesAsync(page));
    }

    [Fact]
    public async Task AnInvalidFilterSaysWhichParameterIsWrong()
    {
        var (_, key) = await fixture.NewProjectAsync();
        var page = await fixture.SignedInPageAsync(key);

        var answer = await page.GotoAsync("/runs?minScore=lots");

        Assert.Equal(400, answer!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("minScore");
    }

    [Fact]
    public async Task PickingTwoRunsOpensTheirComparison()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var a = await RunScript.FinishedAsync(api, "first");
        var b = await RunScript.FinishedAsync(api, "second");
        var page = await fixture.SignedInPageAsync(key);

        await page.GetByLabel("Pick first to compare").CheckAsync();
        await page.GetByLabel("Pick second to compare").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare two picked runs" }).ClickAsync();

        await page.WaitForURLAsync("**/compare**");
        Assert.Contains(a.RunId.ToString(), page.Url);
        Assert.Contains(b.RunId.ToString(), page.Url);
    }
}
