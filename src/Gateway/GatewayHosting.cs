namespace OptimizationRuns.Gateway;

/// <summary>How the gateway reaches the cluster: the Orleans client's clustering from configuration.</summary>
public static class GatewayHosting
{
    /// <summary>Connects to the silo gateway on localhost at <c>Orleans:GatewayPort</c> (default 30000).</summary>
    public static IClientBuilder AddOptimizationRunsClustering(this IClientBuilder client, IConfiguration configuration)
    {
        client.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = configuration["Orleans:ClusterId"] ?? "optruns";
            o.ServiceId = configuration["Orleans:ServiceId"] ?? "optruns";
        });
        client.UseLocalhostClustering(configuration.GetValue("Orleans:GatewayPort", 30000));
        return client;
    }
}
