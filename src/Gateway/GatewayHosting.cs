namespace OptimizationRuns.Gateway;

/// <summary>How the gateway reaches the cluster: the Orleans client's clustering from configuration.</summary>
public static class GatewayHosting
{
    /// <summary>Connects to the silo gateway on localhost at <c>Orleans:GatewayPort</c> (default 30000).</summary>
    public static IClientBuilder AddOptimizationRunsClustering(this IClientBuilder client, IConfiguration configuration)
    {
        client.UseLocalhostClustering(
            configuration.GetValue("Orleans:GatewayPort", 30000),
            serviceId: configuration["Orleans:ServiceId"] ?? "optruns",
            clusterId: configuration["Orleans:ClusterId"] ?? "optruns");
        return client;
    }
}
