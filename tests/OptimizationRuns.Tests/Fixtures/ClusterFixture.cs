using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using OptimizationRuns.Silo;
using Xunit;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>
/// Two in-process silos configured as production configures them: grain storage and reminders on the
/// test PostgreSQL through the ADO.NET providers, and our data services. Membership is the test
/// host's in-process one (ADO.NET membership has a test of its own: AdoNetClusteringTests).
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    /// <summary>Settings the fixture's silos see on top of the environment; tests may shorten timings here.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected virtual short SiloCount => 2;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    public string ClusterId { get; } = $"test-{Guid.NewGuid():N}";

    public IConfiguration Configuration { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddInMemoryCollection(Settings)
            .Build();
        var configuration = Configuration;
        var builder = new InProcessTestClusterBuilder(SiloCount);
        builder.Options.ClusterId = ClusterId;
        builder.ConfigureSilo((_, silo) => silo.AddOptimizationRuns(configuration));
        // As the gateway's own client does: grain calls continue the HTTP request's trace.
        builder.ConfigureClient(client => client.AddActivityPropagation());
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    /// <summary>The silo where <paramref name="grain"/> is active now.</summary>
    public async Task<SiloAddress> HostOfAsync(IAddressable grain)
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        foreach (var silo in Cluster.Silos.Select(s => s.SiloAddress))
        {
            var activations = await management.GetDetailedGrainStatistics(types: null, hostsIds: [silo]);
            if (activations.Any(a => a.GrainId == grain.GetGrainId()))
            {
                return silo;
            }
        }

        throw new InvalidOperationException("The grain is not active on any silo.");
    }

    public virtual async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>The collection that shares one <see cref="ClusterFixture"/> among grain test classes.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
