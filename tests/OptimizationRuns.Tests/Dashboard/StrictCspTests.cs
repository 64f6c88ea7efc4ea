using Microsoft.Playwright;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>
/// The pages work under a Content-Security-Policy without 'unsafe-inline' (the browser enforces it: the test adds
/// the header to every page it loads), and carry no inline script or event handler that such a policy would block.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class StrictCspTests(DashboardFixture fixture)
{
    private const string Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'";

    [Fact]
    public async Task TheRunPageDrawsAndGoesLiveUnderAStrictPolicy()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.CreateAsync(api, "csp", trials: 5);
        await run.StartAsync();
        await run.TrialAsync(1, "baseline", 0.4);
        var page = await fixture.SignedInPageAsync(key);
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Add(message.Text);
            }
        };
        await page.RouteAsync("**/*", async route =>
        {
            if (route.Request.ResourceType != "document")
            {
                await route.ContinueAsync();
                return;
            }

            var answer = await route.FetchAsync();
            var headers = new Dictionary<string, string>(answer.Headers) { ["content-security-policy"] = Policy };
            await route.FulfillAsync(new RouteFulfillOptions { Response = answer, Headers = headers });
        });

        foreach (var path in new[] { "/runs", $"/runs/{run.RunId}/samples", "/leaderboard", "/analytics", "/compare", $"/runs/{run.RunId}" })
        {
            await page.GotoAsync(path);
            Assert.Equal(0, await page.Locator("script:not([src]):not([type='application/json'])").CountAsync());
            Assert.Equal(0, await page.EvaluateAsync<int>(
                "[...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length"));
        }

        await Assertions.Expect(page.Locator("#trajectory canvas")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#live-state")).ToHaveTextAsync("live");
        await run.TrialAsync(2, "minibatch", 0.6, samples: 5);
        await Assertions.Expect(page.Locator("#trials tr[data-iteration='2']")).ToBeVisibleAsync(new() { Timeout = 5_000 });
        Assert.Empty(violations);
    }

    [Fact]
    public async Task TheRunListFollowsARunningRun()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.CreateAsync(api, "listed live", trials: 8);
        await run.StartAsync();
        var page = await fixture.SignedInPageAsync(key);
        var trials = page.Locator($"#runs tr[data-run-id='{run.RunId}'] td").Nth(9);
        await Assertions.Expect(trials).ToHaveTextAsync("0 / 8");
        await page.GetByLabel("Pick listed live to compare").CheckAsync();

        await run.TrialAsync(1, "baseline", 0.5);

        await Assertions.Expect(trials).ToHaveTextAsync("1 / 8", new() { Timeout = 5_000 });
        await Assertions.Expect(page.GetByLabel("Pick listed live to compare")).ToBeCheckedAsync();
    }
}
