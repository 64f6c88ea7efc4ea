using System.Net;
using Microsoft.Playwright;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>Signing in and out in a real browser; what a key may see; where the key may never appear.</summary>
[Collection(DashboardCollection.Name)]
public sealed class SignInTests(DashboardFixture fixture)
{
    [Fact]
    public async Task APageWithoutASessionRedirectsToSignInAndBackAfterSigningIn()
    {
        var (_, key) = await fixture.NewProjectAsync();
        var page = await fixture.NewPageAsync();

        await page.GotoAsync("/leaderboard");
        Assert.Contains("/signin?returnUrl=%2Fleaderboard", page.Url);
        await Screenshots.SaveAsync(page, "signin");
        await page.GetByLabel("Project API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await page.WaitForURLAsync("**/leaderboard");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Leaderboard" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task TheSessionCookieIsHttpOnlyStrictAndTheKeyIsNowhereInPagesOrUrls()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var run = await RunScript.FinishedAsync(api, "cookie check");
        var page = await fixture.SignedInPageAsync(key);
        var urls = new List<string>();
        page.Request += (_, request) => urls.Add(request.Url);

        await page.GotoAsync($"/runs/{run.RunId}");
        await Assertions.Expect(page.Locator("#run-header")).ToBeVisibleAsync();

        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "optruns_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(key, cookie.Value);
        Assert.DoesNotContain(key, await page.ContentAsync());
        Assert.DoesNotContain(urls, u => u.Contains(key));
        Assert.Null(await page.EvaluateAsync<string?>("document.cookie.includes('optruns_session') ? document.cookie : null"));
    }

    [Fact]
    public async Task AWrongKeyIsRefusedWithAMessageAndNoSession()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/signin");

        await page.GetByLabel("Project API key").FillAsync("ork_not-a-real-key");
        var answer = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Request.Method == "POST");

        Assert.Equal((int)HttpStatusCode.Unauthorized, answer.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not valid");
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "optruns_session");
        Assert.DoesNotContain("ork_not-a-real-key", await page.ContentAsync());
        await page.GotoAsync("/runs");
        Assert.Contains("/signin", page.Url);
    }

    [Fact]
    public async Task TheAdminKeyCannotSignInToTheDashboard()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/signin");

        await page.GetByLabel("Project API key").FillAsync(DashboardFixture.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("project key");
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "optruns_session");
    }

    [Fact]
    public async Task SigningOutEndsTheSession()
    {
        var (_, key) = await fixture.NewProjectAsync();
        var page = await fixture.SignedInPageAsync(key);

        await page.GetByRole(AriaRole.Link, new() { Name = "Sign out" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await page.WaitForURLAsync("**/signin");
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "optruns_session");
        await page.GotoAsync("/runs");
        Assert.Contains("/signin", page.Url);
    }

    [Fact]
    public async Task ARevokedKeyEndsItsSession()
    {
        var (projectId, key) = await fixture.NewProjectWithKeyAsync();
        var page = await fixture.SignedInPageAsync(key.Key);
        using var admin = fixture.Api(DashboardFixture.AdminKey);

        (await admin.DeleteAsync($"/api/projects/{projectId}/api-keys/{key.Id}")).EnsureSuccessStatusCode();

        // The key check caches a key for a few seconds (ApiKeyGrain.CacheFor); after that the session is gone.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        do
        {
            await page.GotoAsync("/runs");
        }
        while (!page.Url.Contains("/signin") && DateTime.UtcNow < deadline && await Task.Delay(500).ContinueWith(_ => true));
        Assert.Contains("/signin", page.Url);
    }

    [Fact]
    public async Task AnotherProjectsRunIsANotFoundPage()
    {
        var (_, keyA) = await fixture.NewProjectAsync();
        var (_, keyB) = await fixture.NewProjectAsync();
        using var apiB = fixture.Api(keyB);
        var runOfB = await RunScript.FinishedAsync(apiB, "secret run of B");
        var pageA = await fixture.SignedInPageAsync(keyA);

        foreach (var path in new[] { $"/runs/{runOfB.RunId}", $"/runs/{runOfB.RunId}/samples" })
        {
            var answer = await pageA.GotoAsync(path);
            Assert.Equal(404, answer!.Status);
            await Assertions.Expect(pageA.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
            Assert.DoesNotContain("secret run of B", await pageA.ContentAsync());
        }

        await pageA.GotoAsync("/runs");
        Assert.DoesNotContain("secret run of B", await pageA.ContentAsync());
    }
}
