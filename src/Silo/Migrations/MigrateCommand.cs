using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace OptimizationRuns.Silo.Migrations;

/// <summary>The <c>migrate up | down N | status</c> command of the silo binary.</summary>
public static class MigrateCommand
{
    /// <summary>The configuration key of the connection string of the schema's owner.</summary>
    public const string OwnerConnectionStringName = "PostgresOwner";

    private const string Usage = """
        Usage: OptimizationRuns.Silo migrate <command>

        Commands:
          up         apply every pending migration, in order (safe to run again, and concurrently);
                     refuses when an applied migration's script has changed since
          down N     roll back the last N applied migrations, newest first
          status     list the migrations and whether each is applied

        Connects with ConnectionStrings__PostgresOwner: the role that owns the schema.
        """;

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        var logger = loggerFactory.CreateLogger("migrate");
        var command = args.ElementAtOrDefault(0);
        if (command is null or "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return command is null ? 2 : 0;
        }

        var connectionString = configuration.GetConnectionString(OwnerConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            logger.LogError("ConnectionStrings__{Name} is not set: migrations run as the schema's owner", OwnerConnectionStringName);
            return 2;
        }

        var migrator = new Migrator(connectionString, MigrationCatalog.Load(), logger);
        switch (command)
        {
            case "up":
                try
                {
                    await migrator.UpAsync(cancellationToken);
                }
                catch (MigrationChangedException e)
                {
                    logger.LogError("{Message}", e.Message);
                    return 1;
                }

                return 0;
            case "down" when args.Length == 2 && int.TryParse(args[1], out var steps) && steps >= 0:
                var rolledBack = await migrator.DownAsync(steps, cancellationToken);
                logger.LogInformation("Rolled back {Count} migration(s)", rolledBack);
                return 0;
            case "status":
                foreach (var status in await migrator.StatusAsync(cancellationToken))
                {
                    var state = status.Applied ? $"applied {status.AppliedAt:u}" : "pending";
                    var warning = status.ChecksumMatches ? "" : "  (changed since it was applied!)";
                    Console.WriteLine($"{status.Version:D4}_{status.Name,-30} {state}{warning}");
                }

                return 0;
            default:
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }
}
