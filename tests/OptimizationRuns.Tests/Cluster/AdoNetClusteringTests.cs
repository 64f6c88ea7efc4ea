using Dapper;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using OptimizationRuns.Silo;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Cluster;

/// <summary>Membership on PostgreSQL through our own SQL: two silos and a client find each other.</summary>
public sealed class AdoNetClusteringTests
{
    private sealed class AdoNetMembership : ISiloConfigurator, IClientBuilderConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder
            .UseAdoNetClustering(o =>
            {
                o.Invariant = SiloHosting.AdoNetInvariant;
                o.ConnectionString = TestDatabase.ServiceConnectionString;
            })
            .AddOptimizationRuns(siloBuilder.Configuration);

        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = SiloHosting.AdoNetInvariant;
                o.ConnectionString = TestDatabase.ServiceConnectionString;
            });
    }

    [Fact]
    public async Task TwoSilosJoinOneClusterThroughPostgresMembership()
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ClusterId = $"test-{Guid.NewGuid():N}";
        builder.AddSiloBuilderConfigurator<AdoNetMembership>();
        builder.AddClientBuilderConfigurator<AdoNetMembership>();
        builder.ConfigureHostConfiguration(c => c.AddEnvironmentVariables());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            await using var connection = await TestDatabase.OpenServiceAsync();
            var active = await connection.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @id AND Status = 3",
                new { id = builder.Options.ClusterId });
            Assert.Equal(2, active);

            var hosts = await cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            Assert.Equal(2, hosts.Count);

            // A grain call through the client proves the cluster serves requests, not just lists members.
            var probe = cluster.Client.GetGrain<IProbeGrain>(Guid.NewGuid().ToString());
            await probe.SetAsync("joined");
            Assert.Equal("joined", await probe.GetAsync());
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
