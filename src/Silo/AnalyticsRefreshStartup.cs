using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OptimizationRuns.Grains.Analytics;

namespace OptimizationRuns.Silo;

/// <summary>The scheduled refresh of the analytics view: its options, and a start from every silo as it starts.</summary>
public static class AnalyticsRefreshStartup
{
    /// <summary>Binds <c>Analytics</c> (<c>Analytics:RefreshPeriod</c>, default 5 minutes) and starts the schedule at silo start.</summary>
    public static ISiloBuilder AddAnalyticsRefresh(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.Configure<AnalyticsOptions>(configuration.GetSection("Analytics"));
        silo.AddStartupTask(StartAsync);
        return silo;
    }

    // A database that is down must not keep the silo from starting: the reminder, once registered, and the next
    // silo start try again, and on-demand refreshes work meanwhile.
    private static async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        try
        {
            await services.GetRequiredService<IGrainFactory>().GetGrain<IAnalyticsRefreshGrain>(0).StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AnalyticsRefreshStartup))
                .LogWarning(ex, "Could not start the scheduled analytics refresh");
        }
    }
}
