using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace OptimizationRuns.Silo.Migrations;

/// <summary>
/// <c>prepare-database</c>: makes a PostgreSQL server the user has a privileged login for ready to run us — the two
/// roles, the database, the migrations — and prints the two connection strings; or, with <c>--print-sql</c>, prints
/// the SQL for a DBA to run instead.
/// </summary>
public static class PrepareDatabaseCommand
{
    private const string Usage = """
        Usage: OptimizationRuns.Silo prepare-database --admin "<connection string>" [options]
               OptimizationRuns.Silo prepare-database --print-sql [options]

        Creates the roles optruns_owner and optruns_service, the database (owned by optruns_owner), applies
        the migrations, and prints the two connection strings as shell export lines (stdout; progress on stderr).
        Safe to run again: existing roles keep their passwords unless given, an existing database is migrated.

          --admin CONN            a login with CREATEROLE and CREATEDB (or a superuser), e.g.
                                  "Host=db.example.com;Username=postgres;Password=…;SSL Mode=VerifyFull"
                                  (also read from OPTRUNS_ADMIN_CONNECTION). Host, port and TLS settings
                                  carry over to the printed connection strings.
          --database NAME         the database to create or use (default optruns)
          --owner-password P      optruns_owner's password (default: generated; required if the role exists)
          --service-password P    optruns_service's password (the same rule)
          --print-sql             print the SQL a DBA runs instead (passwords generated unless given), then
                                  migrate with the owner's connection string: migrate up
        """;

    private sealed record Options(string? Admin, string Database, string? OwnerPassword, string? ServicePassword, bool PrintSql);

    private sealed record Login(bool Super, bool CreateRole, bool CreateDb);

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        if (Parse(args) is not { } options)
        {
            Console.Error.WriteLine(Usage);
            return args.Any(a => a is "-h" or "--help") ? 0 : 2;
        }

        if (options.PrintSql)
        {
            Console.Write(PreparationSql.Script(options.Database, options.OwnerPassword ?? NewPassword(), options.ServicePassword ?? NewPassword()));
            return 0;
        }

        // Progress on stderr: stdout carries only the export lines, for eval or a file.
        using var loggerFactory = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        var logger = loggerFactory.CreateLogger("prepare-database");
        try
        {
            var (owner, service) = await PrepareAsync(options, logger, cancellationToken);
            Console.WriteLine($"export ConnectionStrings__PostgresOwner={ShellQuoted(owner)}");
            Console.WriteLine($"export ConnectionStrings__Postgres={ShellQuoted(service)}");
            return 0;
        }
        catch (Exception e) when (e is PreparationException or NpgsqlException or MigrationChangedException)
        {
            logger.LogError("{Message}", e.Message);
            return 1;
        }
    }

    /// <summary>Prepares the database and migrates it; returns the owner's and the service role's connection strings.</summary>
    public static async Task<(string Owner, string Service)> PrepareAsync(
        string adminConnectionString, string database, string? ownerPassword, string? servicePassword, ILogger logger,
        CancellationToken cancellationToken) =>
        await PrepareAsync(new Options(adminConnectionString, database, ownerPassword, servicePassword, false), logger, cancellationToken);

    private static async Task<(string Owner, string Service)> PrepareAsync(Options options, ILogger logger, CancellationToken cancellationToken)
    {
        var admin = new NpgsqlConnectionStringBuilder(options.Admin) { Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var login = await connection.QuerySingleAsync<Login>(new CommandDefinition(
            "SELECT rolsuper AS Super, rolcreaterole AS CreateRole, rolcreatedb AS CreateDb FROM pg_roles WHERE rolname = current_user",
            cancellationToken: cancellationToken));
        if (!login.Super && !(login.CreateRole && login.CreateDb))
        {
            throw new PreparationException(
                $"{admin.Username} has neither superuser nor both CREATEROLE and CREATEDB. Ask your DBA to run the SQL of " +
                "`prepare-database --print-sql`, then run `migrate up` with the owner's connection string.");
        }

        var ownerPassword = await EnsureRoleAsync(connection, PreparationSql.OwnerRole, options.OwnerPassword, "--owner-password", logger, cancellationToken);
        var servicePassword = await EnsureRoleAsync(connection, PreparationSql.ServiceRole, options.ServicePassword, "--service-password", logger, cancellationToken);
        await EnsureDatabaseAsync(connection, options.Database, login, logger, cancellationToken);
        await RequireTrigramAsync(connection, cancellationToken);
        var owner = For(admin, options.Database, PreparationSql.OwnerRole, ownerPassword);
        var service = For(admin, options.Database, PreparationSql.ServiceRole, servicePassword);
        await new Migrator(owner, MigrationCatalog.Load(), logger).UpAsync(cancellationToken);
        return (owner, service);
    }

    private static async Task<string> EnsureRoleAsync(NpgsqlConnection connection, string role, string? password, string option,
        ILogger logger, CancellationToken cancellationToken)
    {
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = @role)", new { role }, cancellationToken: cancellationToken));
        if (exists && password is null)
        {
            throw new PreparationException(
                $"Role {role} exists already: pass {option} with its password (or a new one, which is then set).");
        }

        password ??= NewPassword();
        await connection.ExecuteAsync(new CommandDefinition(
            exists ? PreparationSql.SetPassword(role, password) : PreparationSql.CreateRole(role, password), cancellationToken: cancellationToken));
        logger.LogInformation("{Action} role {Role}", exists ? "Set the password of" : "Created", role);
        return password;
    }

    private static async Task EnsureDatabaseAsync(NpgsqlConnection connection, string database, Login login, ILogger logger,
        CancellationToken cancellationToken)
    {
        var owner = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = @database", new { database }, cancellationToken: cancellationToken));
        if (owner is null)
        {
            if (!login.Super)
            {
                await connection.ExecuteAsync(new CommandDefinition(PreparationSql.JoinOwnerRole(), cancellationToken: cancellationToken));
            }

            await connection.ExecuteAsync(new CommandDefinition(PreparationSql.CreateDatabase(database), cancellationToken: cancellationToken));
            logger.LogInformation("Created database {Database}", database);
        }
        else if (owner != PreparationSql.OwnerRole)
        {
            throw new PreparationException(
                $"Database {database} exists and is owned by {owner}, not {PreparationSql.OwnerRole}: choose another --database, " +
                $"or ALTER DATABASE {database} OWNER TO {PreparationSql.OwnerRole} if it holds nothing else.");
        }

        foreach (var statement in PreparationSql.RestrictConnect(database))
        {
            await connection.ExecuteAsync(new CommandDefinition(statement, cancellationToken: cancellationToken));
        }
    }

    private static async Task RequireTrigramAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')", cancellationToken: cancellationToken)))
        {
            throw new PreparationException(
                "The extension pg_trgm is not available on this server (run search needs it): install it (Debian: postgresql-contrib) " +
                "or ask your provider to enable it, then run prepare-database again.");
        }
    }

    // The admin's host, port and TLS settings, with our database and role.
    private static string For(NpgsqlConnectionStringBuilder admin, string database, string role, string password)
    {
        var builder = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = database, Username = role, Password = password };
        builder.Remove(nameof(NpgsqlConnectionStringBuilder.Pooling));
        return builder.ConnectionString;
    }

    private static string ShellQuoted(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    // Letters and digits only: no character needs quoting in a connection string, a shell or SQL.
    private static string NewPassword() => RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);

    private static Options? Parse(string[] args)
    {
        string? admin = Environment.GetEnvironmentVariable("OPTRUNS_ADMIN_CONNECTION"), owner = null, service = null;
        var database = "optruns";
        var printSql = false;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--admin" when value is not null: admin = value; i++; break;
                case "--database" when value is not null: database = value; i++; break;
                case "--owner-password" when value is not null: owner = value; i++; break;
                case "--service-password" when value is not null: service = value; i++; break;
                case "--print-sql": printSql = true; break;
                default: return null;
            }
        }

        return PreparationSql.IsPlainName(database) && (printSql || !string.IsNullOrWhiteSpace(admin))
            ? new Options(admin, database, owner, service, printSql)
            : null;
    }

    private sealed class PreparationException(string message) : Exception(message);
}
