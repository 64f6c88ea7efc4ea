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
        RowMapping.Register();
        services.AddLogging();
        services.AddOptions<SlowQueryLogOptions>();
        services.AddSingleton<SlowQueryLog>();
        services.AddSingleton(sp =>
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            // The same few statements run thousands of times (the group commit): prepare them once per
            // connection. Every setting we make is transaction-local, so a reset on close would only
            // throw the prepared statements away.
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            builder.ConnectionStringBuilder.NoResetOnClose = true;
            sp.GetRequiredService<SlowQueryLog>().Configure(builder);
            return builder.Build();
        });
        services.AddSingleton<HealthStore>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<IngestStore>();
        services.AddSingleton<ProgressStore>();
        services.AddSingleton<ProjectStore>();
        services.AddSingleton<RunListQueries>();
        services.AddSingleton<IterationQueries>();
        services.AddSingleton<SampleQueries>();
        services.AddSingleton<AnalyticsQueries>();
        services.AddSingleton<CandidateStore>();
        services.AddSingleton<ComparisonQueries>();
        services.AddSingleton<RunAnalysisQueries>();
        return services;
    }
}
