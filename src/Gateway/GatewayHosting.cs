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
            // The client keeps trying to reach a silo while the gateway listens: with no silo up yet, requests are
            // answered 503 (not refused) and the gateway recovers by itself when one appears.
            builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
        }

        return builder;
    }

    /// <summary>
    /// Reaches the silos through the gateway endpoints listed in <c>Orleans:Gateways</c>
    /// (<c>host:port,host:port</c>; several silos), else the one on localhost at <c>Orleans:GatewayPort</c>
    /// (default 30000). A static list keeps the gateway free of any database connection.
    /// </summary>
    public static IClientBuilder AddOptimizationRunsClustering(this IClientBuilder client, IConfiguration configuration)
    {
        var serviceId = configuration["Orleans:ServiceId"] ?? "optruns";
        var clusterId = configuration["Orleans:ClusterId"] ?? "optruns";
        // Calls continue the HTTP request's trace into the silos.
        client.AddActivityPropagation();
        client.AddOutgoingGrainCallFilter(new Cluster.CallDeadline(configuration.GetValue("Cluster:CallDeadline", Cluster.CallDeadline.Default)));
        if (configuration["Orleans:Gateways"] is { Length: > 0 } gateways)
        {
            var endpoints = gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(Resolve).ToArray();
            client.UseStaticClustering(endpoints);
            client.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ServiceId, o.ClusterId) = (serviceId, clusterId));
        }
        else
        {
            client.UseLocalhostClustering(configuration.GetValue("Orleans:GatewayPort", 30000), serviceId, clusterId);
        }

        return client;
    }

    // "host:port" with an IP or a name (compose service names resolve through DNS).
    private static System.Net.IPEndPoint Resolve(string endpoint)
    {
        if (System.Net.IPEndPoint.TryParse(endpoint, out var parsed))
        {
            return parsed;
        }

        var colon = endpoint.LastIndexOf(':');
        var host = endpoint[..colon];
        var address = System.Net.Dns.GetHostAddresses(host).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        return new System.Net.IPEndPoint(address, int.Parse(endpoint[(colon + 1)..]));
    }
}
