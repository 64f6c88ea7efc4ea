using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OptimizationRuns.Grains.Maintenance;

namespace OptimizationRuns.Silo;

/// <summary>Retention: its options (section <c>Retention</c>) and its schedule, started by every silo as it starts.</summary>
public static class RetentionStartup
{
    /// <summary>Binds <c>Retention</c> and starts the purge schedule at silo start.</summary>
    public static ISiloBuilder AddRetention(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.Configure<RetentionOptions>(configuration.GetSection("Retention"));
        silo.Services.AddSingleton<RetentionStore>();
        silo.AddStartupTask(StartAsync);
        return silo;
    }

    // A database that is down must not keep the silo from starting: the next silo start registers the schedule.
    private static async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        try
        {
            await services.GetRequiredService<IGrainFactory>().GetGrain<IRetentionGrain>(0).StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RetentionStartup))
                .LogWarning(ex, "Could not start the retention schedule");
        }
    }
}
