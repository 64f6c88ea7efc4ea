using System.Net.Http.Headers;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// A silo process and a gateway process on a <see cref="PostgresServer"/> of their own, so a test can stop the
/// database under them. Membership is localhost clustering (the silo's default): with ADO.NET membership
/// (<c>Cluster:Membership=AdoNet</c>) it would live in the very database being stopped, and a stopped membership
/// table is a different fault (silos that are up keep serving; none can join) from the one under test here.
/// </summary>
public sealed class OutageSystem : IAsyncDisposable
{
    public const string AdminKey = "faults-admin-key-0123456789";

    private readonly Dictionary<string, string> _siloEnvironment;
    private ServiceProcess? _silo;

    private OutageSystem(PostgresServer database, Dictionary<string, string> siloEnvironment, ServiceProcess gateway, Uri address)
    {
        Database = database;
        _siloEnvironment = siloEnvironment;
        Gateway = gateway;
        Address = address;
    }

    public PostgresServer Database { get; }

    public ServiceProcess Silo => _silo ?? throw new InvalidOperationException("The silo was not started.");

    public ServiceProcess Gateway { get; }

    public Uri Address { get; }

    /// <summary>Everything the processes printed, for failure messages.</summary>
    public string Output => $"--- silo\n{_silo?.Output}\n--- gateway\n{Gateway.Output}";

    /// <summary>A new database, a silo and a gateway, ready.</summary>
    public static async Task<OutageSystem> StartAsync()
    {
        var system = Start(await PostgresServer.StartNewAsync(), startSilo: true);
        try
        {
            await system.WaitUntilReadyAsync();
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The gateway, and the silo when <paramref name="startSilo"/>, on <paramref name="database"/> (running or not),
    /// without waiting for either to be ready; <see cref="StartSilo"/> starts a silo later.
    /// </summary>
    public static OutageSystem Start(PostgresServer database, bool startSilo)
    {
        var id = $"faults-{Guid.NewGuid():N}";
        var gatewayPort = ServiceProcess.FreePort();
        var siloEnvironment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database.ServiceConnectionString,
            ["Orleans__ClusterId"] = id,
            ["Orleans__ServiceId"] = id,
            ["Orleans__SiloPort"] = ServiceProcess.FreePort().ToString(),
            ["Orleans__GatewayPort"] = gatewayPort.ToString(),
            ["Analytics__RefreshPeriod"] = "00:00:00",
            ["Telemetry__PrometheusPort"] = ServiceProcess.FreePort().ToString(),
        };
        var httpPort = ServiceProcess.FreePort();
        var gateway = ServiceProcess.Start("Gateway", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}",
            ["Orleans__ClusterId"] = id,
            ["Orleans__ServiceId"] = id,
            ["Orleans__GatewayPort"] = gatewayPort.ToString(),
            ["OPTRUNS_ADMIN_KEY"] = AdminKey,
        });
        var system = new OutageSystem(database, siloEnvironment, gateway, new Uri($"http://127.0.0.1:{httpPort}"));
        if (startSilo)
        {
            system.StartSilo();
        }

        return system;
    }

    /// <summary>Starts the silo process.</summary>
    public void StartSilo() => _silo = ServiceProcess.Start("Silo", _siloEnvironment);

    /// <summary>The silo's Prometheus scrape (its listener answers the host name localhost only).</summary>
    public async Task<string> SiloMetricsAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync($"http://localhost:{_siloEnvironment["Telemetry__PrometheusPort"]}/metrics");
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

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }

        await Database.DisposeAsync();
    }

    /// <summary>Waits until the gateway answers ready (a silo reached the database), for at most <paramref name="within"/>.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan? within = null)
    {
        using var http = Client();
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline || _silo?.HasExited == true || Gateway.HasExited)
            {
                throw new InvalidOperationException("The silo and gateway did not come up:\n" + Output);
            }

            await Task.Delay(250);
        }
    }
}
