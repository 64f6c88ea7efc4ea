using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Serializers;

namespace OptimizationRuns.Silo;

/// <summary>
/// How a silo of ours is put together: providers, clustering, data services. Shared by
/// <c>Program.cs</c> and the test clusters, so tests run the configuration production runs.
/// </summary>
public static class SiloHosting
{
    /// <summary>The name of the grain storage that checkpoints live run state.</summary>
    public const string RunStorage = OptimizationRuns.Grains.Runs.StorageNames.Runs;

    /// <summary>Orleans' ADO.NET invariant for PostgreSQL.</summary>
    public const string AdoNetInvariant = "Npgsql";

    /// <summary>
    /// How long a connection attempt may take unless the connection string says (<c>Timeout=</c>). Npgsql's own
    /// default, 15 s, would hold every caller that long when the database host drops packets instead of refusing.
    /// </summary>
    public const int DefaultConnectTimeoutSeconds = 5;

    /// <summary>
    /// Configures grain storage, reminders and our services from configuration, and the grain boundary's error
    /// handling: no database driver exception crosses it (<see cref="StorageFailureFilter"/>, <see cref="DatabaseErrorCodec"/>).
    /// </summary>
    public static ISiloBuilder AddOptimizationRuns(this ISiloBuilder silo, IConfiguration configuration)
    {
        var connectionString = ServiceConnectionString(configuration);

        // Grain calls continue the caller's trace (W3C trace context through Orleans messages).
        silo.AddActivityPropagation();
        silo.AddIncomingGrainCallFilter<StorageFailureFilter>();
        silo.Services.AddSingleton<DatabaseErrorCodec>();
        silo.Services.AddSingleton<IGeneralizedCodec>(sp => sp.GetRequiredService<DatabaseErrorCodec>());
        silo.Services.AddSingleton<IGeneralizedCopier>(sp => sp.GetRequiredService<DatabaseErrorCodec>());
        silo.AddAdoNetGrainStorage(RunStorage, o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = connectionString;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = connectionString;
        });
        silo.Services.AddOptimizationRunsData(connectionString);
        silo.Services.Configure<RunOptions>(configuration.GetSection("Runs"));
        silo.Services.AddSingleton<RunProgressWriter>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<RunProgressWriter>());
        silo.Services.Configure<SlowQueryLogOptions>(configuration.GetSection(SlowQueryLogOptions.Section));
        // How long an idle grain (a finished or stalled run, a query grain) stays in memory: GrainCollection:CollectionAge
        // (Orleans' default 15 min) and :CollectionQuantum (1 min), how often the silo looks.
        silo.Configure<Orleans.Configuration.GrainCollectionOptions>(configuration.GetSection("GrainCollection"));
        silo.AddAnalyticsRefresh(configuration);
        silo.AddRetention(configuration);
        return silo;
    }

    /// <summary>
    /// Cluster and service ids (<c>Orleans:ClusterId</c>, <c>Orleans:ServiceId</c>, default <c>optruns</c>) and membership: ADO.NET on PostgreSQL when <c>Cluster:Membership</c> is <c>AdoNet</c> (not under <c>Orleans:</c>, whose Clustering section Orleans reads itself) (several silos),
    /// else localhost clustering on <c>Orleans:SiloPort</c> / <c>Orleans:GatewayPort</c>.
    /// </summary>
    public static ISiloBuilder AddOptimizationRunsClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var clusterId = configuration["Orleans:ClusterId"] ?? "optruns";
        var serviceId = configuration["Orleans:ServiceId"] ?? "optruns";
        var siloPort = configuration.GetValue("Orleans:SiloPort", 11111);
        var gatewayPort = configuration.GetValue("Orleans:GatewayPort", 30000);
        if (string.Equals(configuration["Cluster:Membership"], "AdoNet", StringComparison.OrdinalIgnoreCase))
        {
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = ServiceConnectionString(configuration);
            });
            silo.ConfigureEndpoints(AdvertisedAddress(configuration["Orleans:AdvertisedHost"]), siloPort, gatewayPort,
                listenOnAnyHostAddress: true);
            silo.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId));
            silo.AddFailureDetection(configuration);
        }
        else
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: clusterId);
        }

        return silo;
    }

    /// <summary>
    /// <c>ConnectionStrings:Postgres</c>, with <see cref="DefaultConnectTimeoutSeconds"/> as the connect timeout unless
    /// it sets one. The command timeout stays Npgsql's 30 s, which Orleans' 30 s response timeout matches: a statement
    /// that is merely slow (an analytics refresh, a large group commit) must not fail for being slow.
    /// </summary>
    public static string ServiceConnectionString(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(DataServices.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings__{DataServices.ConnectionStringName} is not set: the silo needs PostgreSQL (scripts/run sets one up).");
        }

        if (new DbConnectionStringBuilder { ConnectionString = connectionString }.ContainsKey(nameof(NpgsqlConnectionStringBuilder.Timeout)))
        {
            return connectionString;
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { Timeout = DefaultConnectTimeoutSeconds }.ConnectionString;
    }

    /// <summary>
    /// The address other silos and clients reach this one at: <c>Orleans:AdvertisedHost</c> as an IP or a
    /// host name, <c>auto</c> for this machine's own name (containers), 127.0.0.1 by default.
    /// </summary>
    private static System.Net.IPAddress AdvertisedAddress(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return System.Net.IPAddress.Loopback;
        }

        if (System.Net.IPAddress.TryParse(host, out var address))
        {
            return address;
        }

        var name = host == "auto" ? System.Net.Dns.GetHostName() : host;
        return System.Net.Dns.GetHostAddresses(name).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
    }
}
