using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>The real gateway pipeline, calling grains through the test cluster's client.</summary>
public sealed class GatewayFactory(
    IClusterClient client, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Orleans:Client", "external");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(collection =>
        {
            collection.AddSingleton(client);
            collection.AddSingleton<IGrainFactory>(client);
            services?.Invoke(collection);
        });
    }
}
