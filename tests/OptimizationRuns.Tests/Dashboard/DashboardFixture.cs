using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OptimizationRuns.Gateway.Apis;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>
/// The test cluster, the real gateway on a Kestrel port of its own, and Debian's chromium driven by Playwright.
/// Runs stall after a few silent seconds here, so the stalled badge can be watched; trace links use a test template.
/// </summary>
public sealed class DashboardFixture : ClusterFixture
{
    public const string AdminKey = "test-admin-key-dashboard-0123456789";
    public const string TraceUrlTemplate = "http://traces.test/trace/{traceId}";
    public static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(4);

    private GatewayFactory? _gateway;
    private IPlaywright? _playwright;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Runs:StallAfter"] = StallAfter.ToString(),
        ["Runs:StallCheckPeriod"] = "00:00:00.500",
    };

    protected override short SiloCount => 1;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The gateway's address, e.g. http://127.0.0.1:41234.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _gateway = new GatewayFactory(Client, new Dictionary<string, string?>
        {
            ["OPTRUNS_ADMIN_KEY"] = AdminKey,
            ["Dashboard:TraceUrlTemplate"] = TraceUrlTemplate,
        });
        _gateway.UseKestrel(0);
        _gateway.StartServer();
        var address = _gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1"));
        // A shared 2-core machine (and CI) can be slow: waits on what a user sees get 20 s.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
    }

    /// <summary>Debian's chromium (scripts/test installs it); never a browser download.</summary>
    public static string Chromium => Environment.GetEnvironmentVariable("OPTRUNS_CHROMIUM") ?? "/usr/bin/chromium";

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    /// <summary>An API client of the running gateway sending <paramref name="key"/> as its bearer token.</summary>
    public HttpClient Api(string key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>A new project and a key of it, through the admin API.</summary>
    public async Task<(Guid ProjectId, string Key)> NewProjectAsync()
    {
        var (projectId, key) = await NewProjectWithKeyAsync();
        return (projectId, key.Key);
    }

    public async Task<(Guid ProjectId, ApiKeyResponse Key)> NewProjectWithKeyAsync()
    {
        using var admin = Api(AdminKey);
        var created = await admin.PostAsJsonAsync("/api/projects", new { name = $"dashboard-{Guid.NewGuid():N}" });
        var project = (await created.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ProjectResponse>())!;
        var key = await admin.PostAsJsonAsync($"/api/projects/{project.Id}/api-keys", new { name = "browser" });
        return (project.Id, (await key.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ApiKeyResponse>())!);
    }

    /// <summary>A fresh browser context (its own cookies) at 1280×800, and a page in it.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        // Generous: the first page of a run compiles components and activates grains, slow on a busy 2-core machine.
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    /// <summary>A page signed in with <paramref name="key"/> through the sign-in form.</summary>
    public async Task<IPage> SignedInPageAsync(string key)
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByLabel("Project API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/runs");
        return page;
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}
