using Npgsql;

namespace OptimizationRuns.Tests.Faults;

/// <summary>Database exceptions as the driver raises them, for classification tests and the failing test grains.</summary>
public static class DriverErrors
{
    /// <summary>What Npgsql throws when nothing listens on the server's port: a real connection attempt to a closed port.</summary>
    public static async Task<NpgsqlException> ConnectionRefusedAsync()
    {
        var port = Fixtures.ServiceProcess.FreePort();
        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=nobody;Password=none;Timeout=5;Pooling=false");
        try
        {
            await connection.OpenAsync();
        }
        catch (NpgsqlException refused)
        {
            return refused;
        }

        throw new InvalidOperationException($"Something answered on port {port}.");
    }

    /// <summary>An error the server reports, as Npgsql builds it from the server's error message.</summary>
    public static PostgresException Server(string sqlState, string? constraint = null, string? column = null) =>
        new($"server error {sqlState}", "ERROR", "ERROR", sqlState, tableName: "optimization_samples",
            columnName: column, constraintName: constraint);
}
