namespace OptimizationRuns.Silo.Migrations;

/// <summary>
/// Applies pending migrations before the silo starts, when <c>Database:MigrateOnStart</c> is true.
/// Registered ahead of Orleans so grains never meet an older schema.
/// </summary>
public sealed class MigrateOnStart(IConfiguration configuration, ILogger<MigrateOnStart> logger) : IHostedService
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connectionString = configuration.GetConnectionString(MigrateCommand.OwnerConnectionStringName)
            ?? throw new InvalidOperationException(
                $"Database:MigrateOnStart is set but ConnectionStrings__{MigrateCommand.OwnerConnectionStringName} is not.");
        await new Migrator(connectionString, MigrationCatalog.Load(), logger).UpAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
