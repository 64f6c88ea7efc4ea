using Npgsql;

namespace OptimizationRuns.Grains.Data;

/// <summary>The database side of readiness.</summary>
public sealed class HealthStore(NpgsqlDataSource dataSource)
{
    /// <summary>Opens a pooled connection and runs a trivial query.</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }
}
