using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace OptimizationRuns.Grains.Data;

/// <summary>Registers the process's one <see cref="NpgsqlDataSource"/> and the stores built on it.</summary>
public static class DataServices
{
    /// <summary>The configuration name of the service role's connection string.</summary>
    public const string ConnectionStringName = "Postgres";

    /// <summary>Adds the data source for <paramref name="connectionString"/> (the service role) and every store.</summary>
    public static IServiceCollection AddOptimizationRunsData(this IServiceCollection services, string connectionString)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        services.AddSingleton<HealthStore>();
        return services;
    }
}
