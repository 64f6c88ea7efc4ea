using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using OptimizationRuns.Tests.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Cluster;

/// <summary>
/// The real topology: two silo processes with membership on PostgreSQL and a gateway process in front,
/// driven over HTTP. Stopping a silo gracefully moves its runs to the other with nothing acknowledged lost.
/// </summary>
[Collection(Faults.ProcessFaults.Name)]
public sealed class MultiSiloProcessTests : IAsyncLifetime
{
    private const string AdminKey = "multi-silo-admin-key-0123456789";
    private readonly string _clusterId = $"procs-{Guid.NewGuid():N}";
    private readonly List<ServiceProcess> _silos = [];
    private readonly List<(int SiloPort, int GatewayPort)> _ports = [];
    private ServiceProcess? _gateway;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            var ports = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
            _ports.Add(ports);
            _silos.Add(ServiceProcess.Start("Silo", new Dictionary<string, string>
            {
                ["ConnectionStrings__Postgres"] = TestDatabase.ServiceConnectionString,
                ["Cluster__Membership"] = "AdoNet",
                ["Orleans__ClusterId"] = _clusterId,
                ["Orleans__ServiceId"] = _clusterId,
                ["Orleans__SiloPort"] = ports.Item1.ToString(),
                ["Orleans__GatewayPort"] = ports.Item2.ToString(),
                ["Analytics__RefreshPeriod"] = "00:00:00",
            }));
        }

        var httpPort = ServiceProcess.FreePort();
        _gateway = ServiceProcess.Start("Gateway", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}",
            ["Orleans__Gateways"] = string.Join(',', _ports.Select(p => $"127.0.0.1:{p.GatewayPort}")),
            ["Orleans__ClusterId"] = _clusterId,
            ["Orleans__ServiceId"] = _clusterId,
            ["OPTRUNS_ADMIN_KEY"] = AdminKey,
        });
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                if ((await _http.GetAsync("/health/ready")).IsSuccessStatusCode && await ActiveSilosAsync() == 2)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline || _silos.Any(s => s.HasExited) || _gateway.HasExited)
            {
                throw new InvalidOperationException("The cluster did not come up:\n" + string.Join("\n---\n", _silos.Append(_gateway).Select(p => p.Output)));
            }

            await Task.Delay(500);
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        foreach (var process in _silos.Append(_gateway!))
        {
            await process.DisposeAsync();
        }
    }

    private async Task<int> ActiveSilosAsync()
    {
        await using var connection = await TestDatabase.OpenServiceAsync();
        return await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection,
            "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @id AND Status = 3", new { id = _clusterId });
    }

    /// <summary>Run ids hosted by each silo, asked of the cluster through a client of its own.</summary>
    private async Task<Dictionary<int, HashSet<Guid>>> PlacementAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(c => c
            .UseStaticClustering(_ports.Select(p => new IPEndPoint(IPAddress.Loopback, p.GatewayPort)).ToArray())
            .Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, _clusterId)));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var management = client.GetGrain<IManagementGrain>(0);
            var placement = new Dictionary<int, HashSet<Guid>>();
            foreach (var silo in await management.GetHosts(onlyActive: true))
            {
                var grains = await management.GetDetailedGrainStatistics(types: null, hostsIds: [silo.Key]);
                placement[silo.Key.Endpoint.Port] = grains.Where(g => g.GrainId.Type.ToString().Contains("run", StringComparison.OrdinalIgnoreCase)
                        && !g.GrainId.Type.ToString().Contains("query", StringComparison.OrdinalIgnoreCase))
                    .Select(g => Guid.Parse(g.GrainId.Key.ToString()!.Split('+')[0])).ToHashSet();
            }

            return placement;
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private async Task<HttpClient> ProjectClientAsync()
    {
        using var admin = new HttpClient { BaseAddress = _http.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var project = await (await admin.PostAsJsonAsync("/api/projects", new { name = "multi-silo" })).JsonAsync(HttpStatusCode.Created);
        var key = await (await admin.PostAsJsonAsync($"/api/projects/{project.GetProperty("id").GetGuid()}/api-keys", new { name = "k" }))
            .JsonAsync(HttpStatusCode.Created);
        var client = new HttpClient { BaseAddress = _http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.GetProperty("key").GetString());
        return client;
    }

    // A worker's retry loop, as the Python client does it: retryable answers and broken connections are tried again.
    private static async Task<JsonElement> SendUntilAcknowledgedAsync(HttpClient client, string url, object body)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await client.PostAsJsonAsync(url, body);
                if (response.IsSuccessStatusCode)
                {
                    return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                }

                if ((int)response.StatusCode < 500 || attempt > 40)
                {
                    throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
            catch (HttpRequestException) when (attempt <= 40)
            {
            }

            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task RunsSpreadOverBothSilosAndMoveWhenOneStopsWithNothingAcknowledgedLost()
    {
        using var client = await ProjectClientAsync();
        // Runs are placed at random (RunGrain): 16 all on one silo has odds of 1 in 32,768. Runs are
        // added until both silos host some, so the stop has runs to move either way.
        var runs = new List<Guid>();
        for (var round = 0; round < 10; round++)
        {
            for (var i = round == 0 ? 16 : 4; i > 0; i--)
            {
                runs.Add(await client.CreateRunWhenReadyAsync());
            }

            if ((await PlacementAsync()).Values.All(hosted => hosted.Count > 0))
            {
                break;
            }
        }

        // Every worker writes before, during and after the stop: it keeps going until the stop has ended
        // and it has written a few batches to the survivor, however fast or slow this machine is. The
        // pause between batches only keeps the volume modest.
        const int batchSize = 20;
        const int batchesBeforeStop = 10;
        const int batchesAfterStop = 5;
        const int maxBatches = 2_000;
        var acknowledged = new ConcurrentDictionary<Guid, int>();
        var started = 0;
        var allStarted = new TaskCompletionSource();
        var stopBegun = new TaskCompletionSource();
        var stopped = new TaskCompletionSource();
        var sentDuringStop = 0;
        var workers = runs.Select(runId => Task.Run(async () =>
        {
            var afterStop = 0;
            for (var b = 0; afterStop < batchesAfterStop; b++)
            {
                Assert.True(b < maxBatches, "the silo did not stop while the workers were writing");
                var stopHadEnded = stopped.Task.IsCompleted;
                if (stopBegun.Task.IsCompleted && !stopHadEnded)
                {
                    Interlocked.Increment(ref sentDuringStop);
                }

                var result = await SendUntilAcknowledgedAsync(client, $"/api/optimization/runs/{runId}/samples", HttpJson.Samples(b / 10, b * batchSize, batchSize));
                acknowledged.AddOrUpdate(runId, batchSize, (_, n) => n + batchSize);
                Assert.Equal(batchSize, result.GetProperty("accepted").GetInt32());
                afterStop += stopHadEnded ? 1 : 0;
                if (b + 1 == batchesBeforeStop && Interlocked.Increment(ref started) == runs.Count)
                {
                    allStarted.SetResult();
                }

                await Task.Delay(20);
            }
        })).ToList();

        // A worker that fails before the others get going ends the wait with its error.
        await Task.WhenAny(allStarted.Task, Task.WhenAll(workers)).WaitAsync(TimeSpan.FromSeconds(60));
        if (workers.Any(w => w.IsFaulted))
        {
            await Task.WhenAll(workers);
        }

        var before = await PlacementAsync();
        Assert.Equal(2, before.Count);
        Assert.All(before.Values, hosted => Assert.NotEmpty(hosted));
        var stopping = before.OrderByDescending(p => p.Value.Count).First();
        var victim = _silos[_ports.FindIndex(p => p.SiloPort == stopping.Key)];

        stopBegun.SetResult();
        await victim.StopGracefullyAsync(TimeSpan.FromSeconds(60));
        stopped.SetResult();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(sentDuringStop > 0, "no batch was sent while the silo was stopping");

        foreach (var runId in runs)
        {
            var run = await client.GetRunAsync(runId);
            Assert.Equal(acknowledged[runId], run.GetProperty("samplesEvaluated").GetInt32());
            Assert.Equal(acknowledged[runId], await RunScenario.ReadStoredSampleCountAsync(runId));
        }

        // Only the survivor is left, and it serves the stopped silo's runs (every GET above answered, exactly).
        var after = await PlacementAsync();
        Assert.Single(after);
        Assert.NotEmpty(after.Single().Value);
    }
}
