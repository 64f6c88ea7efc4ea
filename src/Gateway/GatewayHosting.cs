namespace OptimizationRuns.Gateway;

/// <summary>How the gateway reaches the cluster: the Orleans client's clustering from configuration.</summary>
public static class GatewayHosting
{
    /// <summary>
    /// The Orleans client the endpoints call grains through. <c>Orleans:Client=external</c> leaves it to the
    /// host to register an <see cref="IClusterClient"/> (tests hand in their test cluster's client).
    /// </summary>
    public static WebApplicationBuilder AddOptimizationRunsClient(this WebApplicationBuilder builder)
    {
        if (!string.Equals(builder.Configuration["Orleans:Client"], "external", StringComparison.OrdinalIgnoreCase))
        {
            builder.UseOrleansClient(client => client.AddOptimizationRunsClustering(builder.Configuration));
        }

        return builder;
    }

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
