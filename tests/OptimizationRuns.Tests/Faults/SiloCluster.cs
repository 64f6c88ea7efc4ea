using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// The production topology as processes: <c>silos</c> silo processes with membership on the test database
/// (<c>Cluster:Membership=AdoNet</c>) and a gateway process in front of all of them, on free ports, configured as
/// <c>scripts/run --silos N</c> configures them (their own membership settings, nothing test-specific).
/// </summary>
public sealed class SiloCluster : IAsyncDisposable
{
    public const string AdminKey = "silo-cluster-admin-key-0123456789";
    private readonly string _clusterId = $"faults-{Guid.NewGuid():N}";
    private readonly List<ServiceProcess> _silos = [];
    private readonly List<(int SiloPort, int GatewayPort)> _ports = [];
    private readonly List<ServiceProcess> _moreGateways = [];
    private ServiceProcess _gateway = null!;

    private SiloCluster()
    {
    }

    public Uri Address { get; private set; } = null!;

    public IReadOnlyList<ServiceProcess> Silos => _silos;

    public ServiceProcess Gateway => _gateway;

    /// <summary>Everything every process printed, whole (for checking what was logged).</summary>
    public string FullOutput => string.Join("\n", _silos.Select(s => s.Output).Append(_gateway.Output));

    /// <summary>Everything the processes printed, for failure messages.</summary>
    public string Output => string.Join("\n", _silos.Select((s, i) => $"--- silo {i}\n{Tail(s.Output)}")
        .Append($"--- gateway\n{Tail(_gateway.Output)}").Append($"--- gateway, its first unhandled exception\n{FirstUnhandled(_gateway.Output)}"));

    /// <summary>Starts the processes and waits until the gateway is ready and every silo active; <paramref name="gatewaySettings"/> are added to the gateway's environment.</summary>
    public static async Task<SiloCluster> StartAsync(int silos, IReadOnlyDictionary<string, string>? gatewaySettings = null)
    {
        var cluster = new SiloCluster();
        try
        {
            for (var i = 0; i < silos; i++)
            {
                cluster._ports.Add((ServiceProcess.FreePort(), ServiceProcess.FreePort()));
                cluster._silos.Add(ServiceProcess.Start("Silo", cluster.SiloEnvironment(i)));
            }

            (cluster._gateway, cluster.Address) = cluster.StartGateway(gatewaySettings);
            await cluster.WaitUntilAsync(silos);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts one more gateway process in front of the same silos (several gateways behind one address), with
    /// <paramref name="settings"/> added to its environment, and waits until it is ready; it stops with the cluster.
    /// </summary>
    public async Task<Uri> StartGatewayAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var (gateway, address) = StartGateway(settings);
        _moreGateways.Add(gateway);
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await IsReadyAsync(http))
        {
            if (DateTime.UtcNow > deadline || gateway.HasExited)
            {
                throw new InvalidOperationException($"The gateway on {address} did not come up:\n{Tail(gateway.Output)}");
            }

            await Task.Delay(500);
        }

        return address;
    }

    /// <summary>A client of the gateway that sends <paramref name="key"/> as its bearer token.</summary>
    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>A client with the key of a new project.</summary>
    public async Task<HttpClient> ProjectClientAsync()
    {
        using var admin = Client(AdminKey);
        var project = await (await admin.PostAsJsonAsync("/api/projects", new { name = "faults" })).JsonAsync(HttpStatusCode.Created);
        var key = await (await admin.PostAsJsonAsync($"/api/projects/{project.GetProperty("id").GetGuid()}/api-keys", new { name = "k" }))
            .JsonAsync(HttpStatusCode.Created);
        return Client(key.GetProperty("key").GetString());
    }

    /// <summary>The silo process listening on <paramref name="siloPort"/>.</summary>
    public ServiceProcess SiloOnPort(int siloPort) => _silos[_ports.FindIndex(p => p.SiloPort == siloPort)];

    /// <summary>Kills <paramref name="silo"/> with SIGKILL: no shutdown, no goodbye to the cluster.</summary>
    public static async Task KillAsync(ServiceProcess silo)
    {
        using (var kill = Process.Start("kill", ["-KILL", silo.Id.ToString()]))
        {
            await kill!.WaitForExitAsync();
        }

        while (!silo.HasExited)
        {
            await Task.Delay(10);
        }
    }

    /// <summary>Silos the membership table lists as active.</summary>
    public async Task<int> ActiveSilosAsync()
    {
        await using var connection = await TestDatabase.OpenServiceAsync();
        return await connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @id AND Status = 3", new { id = _clusterId });
    }

    /// <summary>Run ids hosted by each silo (by silo port), asked of the cluster through a client of its own.</summary>
    public async Task<Dictionary<int, HashSet<Guid>>> PlacementAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(c => c
            .UseStaticClustering(_ports.Where((_, i) => !_silos[i].HasExited).Select(p => new IPEndPoint(IPAddress.Loopback, p.GatewayPort)).ToArray())
            .Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, _clusterId)));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
            var placement = new Dictionary<int, HashSet<Guid>>();
            foreach (var silo in await management.GetHosts(onlyActive: true))
            {
                var grains = await management.GetDetailedGrainStatistics(types: null, hostsIds: [silo.Key]);
                placement[silo.Key.Endpoint.Port] = grains
                    .Where(g => g.GrainId.Type.ToString() is var type
                        && type.Contains("run", StringComparison.OrdinalIgnoreCase)
                        && !type.Contains("query", StringComparison.OrdinalIgnoreCase))
                    .Select(g => Guid.Parse(g.GrainId.Key.ToString()!.Split('+')[0])).ToHashSet();
            }

            return placement;
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>
    /// Creates runs until every silo hosts at least <paramref name="perSilo"/> (Orleans places each run where it sees
    /// room; on a busy machine its first choices may all be one silo).
    /// </summary>
    public async Task<List<Guid>> RunsOnEverySiloAsync(HttpClient client, int perSilo)
    {
        var runs = new List<Guid>();
        for (var round = 0; round < 20; round++)
        {
            for (var i = round == 0 ? perSilo * _silos.Count : 4; i > 0; i--)
            {
                runs.Add(await client.CreateRunWhenReadyAsync());
            }

            var placement = await PlacementAsync();
            if (placement.Count == _silos.Count && placement.Values.All(hosted => hosted.Count >= perSilo))
            {
                return runs;
            }
        }

        throw new InvalidOperationException($"Runs never spread over every silo ({perSilo} each).");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _silos.Append(_gateway).Concat(_moreGateways).OfType<ServiceProcess>())
        {
            await process.DisposeAsync();
        }
    }

    private (ServiceProcess Gateway, Uri Address) StartGateway(IReadOnlyDictionary<string, string>? settings)
    {
        var address = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = address.ToString().TrimEnd('/'),
            ["Orleans__Gateways"] = string.Join(',', _ports.Select(p => $"127.0.0.1:{p.GatewayPort}")),
            ["Orleans__ClusterId"] = _clusterId,
            ["Orleans__ServiceId"] = _clusterId,
            ["OPTRUNS_ADMIN_KEY"] = AdminKey,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return (ServiceProcess.Start("Gateway", environment), address);
    }

    private static async Task<bool> IsReadyAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/health/ready")).IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false; // not listening yet
        }
    }

    private Dictionary<string, string> SiloEnvironment(int index) => new()
    {
        ["ConnectionStrings__Postgres"] = TestDatabase.ServiceConnectionString,
        ["Cluster__Membership"] = "AdoNet",
        ["Orleans__ClusterId"] = _clusterId,
        ["Orleans__ServiceId"] = _clusterId,
        ["Orleans__SiloPort"] = _ports[index].SiloPort.ToString(),
        ["Orleans__GatewayPort"] = _ports[index].GatewayPort.ToString(),
        ["Analytics__RefreshPeriod"] = "00:00:00",
    };

    private async Task WaitUntilAsync(int activeSilos)
    {
        using var http = Client();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode && await ActiveSilosAsync() == activeSilos)
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
                throw new InvalidOperationException("The cluster did not come up:\n" + Output);
            }

            await Task.Delay(500);
        }
    }

    // A 500 is what a fault test hunts; its exception may be long gone from the tail.
    private static string FirstUnhandled(string text) =>
        text.IndexOf("An unhandled exception has occurred", StringComparison.Ordinal) is var at and >= 0 ? text[at..Math.Min(text.Length, at + 3000)] : "none";

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
