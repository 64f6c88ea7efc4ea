using Npgsql;

namespace OptimizationRuns.Silo;

/// <summary>
/// Holds the silo's start until PostgreSQL answers. Orleans' reminder service and ADO.NET membership read the
/// database while the silo starts and a failure there ends the process; a silo started before its database (a
/// machine booting, a compose stack, a database restart) instead waits here, saying so, and starts when it appears.
/// Registered ahead of Orleans and of <see cref="Migrations.MigrateOnStart"/>.
/// </summary>
public sealed class WaitForDatabase(IConfiguration configuration, ILogger<WaitForDatabase> logger) : IHostedService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connectionString = SiloHosting.ServiceConnectionString(configuration);
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var where = $"{settings.Host}:{settings.Port}/{settings.Database}";
        var retry = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
                if (attempt > 1)
                {
                    logger.LogInformation("PostgreSQL at {Database} is reachable after {Attempts} attempts; starting the silo", where, attempt);
                }

                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Waiting for PostgreSQL at {Database} before starting the silo (attempt {Attempt}: {Error}); retrying in {Retry} s",
                    where, attempt, ex.Message, retry.TotalSeconds);
            }

            await Task.Delay(retry, cancellationToken);
            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
