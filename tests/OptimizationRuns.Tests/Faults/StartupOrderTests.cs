using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using OptimizationRuns.Tests.Gateway;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// Parts started in the wrong order recover by themselves: a silo started before its database waits for it (and says
/// so) instead of exiting, and a gateway started before any silo answers 503 quickly instead of refusing connections.
/// </summary>
[Trait("Category", "Faults")]
[Collection(ProcessFaults.Name)]
public sealed class StartupOrderTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(2);
    private PostgresServer _database = null!;
    private OutageSystem? _system;

    public async Task InitializeAsync() => _database = await PostgresServer.StartNewAsync();

    public async Task DisposeAsync()
    {
        if (_system is not null)
        {
            await _system.DisposeAsync();
        }
        else
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task ASiloStartedBeforeItsDatabaseWaitsSayingSoAndBecomesReadyWhenItAppears()
    {
        await _database.StopAsync();
        _system = OutageSystem.Start(_database, startSilo: true);
        using var http = _system.Client();
        await UntilListeningAsync(http);
        await UntilAsync(() => _system.Silo.Output.Contains("Waiting for PostgreSQL"), "the silo said it waits for PostgreSQL");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(_system.Silo.HasExited, $"the silo exited while the database was down:\n{_system.Output}");
        await ExpectUnavailableAsync("GET /health/ready", () => http.GetAsync("/health/ready"));

        await _database.StartAsync();
        var started = Stopwatch.StartNew();
        await _system.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"ready {started.ElapsedMilliseconds} ms after the database started");
        Assert.Contains("is reachable after", _system.Silo.Output);
        await WriteSomethingAsync();
    }

    [Fact]
    public async Task AGatewayWithNoSiloAnswers503QuicklyAndRecoversWhenOneAppears()
    {
        _system = OutageSystem.Start(_database, startSilo: false);
        using var admin = _system.Client(OutageSystem.AdminKey);
        using var project = _system.Client("ork_not-a-key-anyone-has-0123456789");
        await UntilListeningAsync(admin);

        await ExpectUnavailableAsync("POST project (admin)", () => admin.PostAsJsonAsync("/api/projects", new { name = "no silo" }));
        await ExpectUnavailableAsync("GET run list (project key)", () => project.GetAsync("/api/optimization/runs"));
        await ExpectUnavailableAsync("GET /health/ready", () => admin.GetAsync("/health/ready"));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/live")).StatusCode);

        _system.StartSilo();
        var started = Stopwatch.StartNew();
        await _system.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"ready {started.ElapsedMilliseconds} ms after the silo process started");
        await WriteSomethingAsync();
    }

    private async Task WriteSomethingAsync()
    {
        using var admin = _system!.Client(OutageSystem.AdminKey);
        var projectId = (await (await admin.PostAsJsonAsync("/api/projects", new { name = "late" })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var key = (await (await admin.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "k" })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        using var client = _system.Client(key);
        var runId = await client.CreateRunWhenReadyAsync();
        var batch = await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(1, 0, 5))).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(5, batch.GetProperty("inserted").GetInt32());
    }

    private async Task ExpectUnavailableAsync(string what, Func<Task<HttpResponseMessage>> send)
    {
        var watch = Stopwatch.StartNew();
        using var response = await send();
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{what}: {(int)response.StatusCode} in {watch.ElapsedMilliseconds} ms");
        Assert.True(watch.Elapsed < AnswerWithin, $"{what} took {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what}: expected 503, got {(int)response.StatusCode}: {body}\n{_system!.Output}");
        if (!what.Contains("/health"))
        {
            Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"{what}: Retry-After is {response.Headers.RetryAfter}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    private async Task UntilListeningAsync(HttpClient http)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/health/live")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"the gateway never listened\n{_system?.Output}");
            await Task.Delay(200);
        }
    }

    private async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"timed out waiting until {what}\n{_system?.Output}");
            await Task.Delay(200);
        }
    }
}
