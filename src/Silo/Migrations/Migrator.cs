using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace OptimizationRuns.Silo.Migrations;

/// <summary>What the database says of one migration.</summary>
public sealed record MigrationStatus(int Version, string Name, bool Applied, DateTimeOffset? AppliedAt, bool ChecksumMatches);

/// <summary>
/// Applies and rolls back the numbered migrations. Each runs in its own transaction (or, marked with
/// <see cref="Migration.NoTransactionMarker"/>, statement by statement outside one) and is recorded in
/// <c>schema_migrations</c> with its checksum; <c>up</c> refuses to run while an applied migration's script differs
/// from the one applied. A session advisory lock serialises migrators, so silos starting together apply each
/// migration exactly once.
/// </summary>
/// <remarks>
/// Our own rather than a library: see README ("The database") for why. Connect as the role that owns the schema.
/// </remarks>
public sealed class Migrator(string ownerConnectionString, IReadOnlyList<Migration> migrations, ILogger logger)
{
    // Any constant works as long as every migrator uses the same one: "optruns" in ASCII.
    private const long AdvisoryLockKey = 0x6f_70_74_72_75_6e_73;

    // How long a migrator waits between tries of the lock another one holds, and how often it says it is waiting.
    private static readonly TimeSpan LockRetryInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LockReportInterval = TimeSpan.FromSeconds(10);

    private const string CreateHistorySql = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """;

    private const string AppliedSql = "SELECT version, name, checksum, applied_at AS AppliedAt FROM schema_migrations ORDER BY version";

    private const string RecordSql = "INSERT INTO schema_migrations (version, name, checksum) VALUES (@Version, @Name, @Checksum)";

    private const string ForgetSql = "DELETE FROM schema_migrations WHERE version = @Version";

    private const string UpgradeChecksumSql = "UPDATE schema_migrations SET checksum = @Checksum WHERE version = @Version AND checksum = @LegacyChecksum";

    private sealed record AppliedRow(int Version, string Name, string Checksum, DateTime AppliedAt);

    /// <summary>Applies every pending migration in order; returns how many were applied.</summary>
    public async Task<int> UpAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenLockedAsync(cancellationToken);
        var appliedRows = await ReadAppliedAsync(connection, cancellationToken);
        await RefuseChangedAsync(connection, appliedRows, cancellationToken);
        var applied = appliedRows.Select(a => a.Version).ToHashSet();
        var count = 0;
        foreach (var migration in migrations.Where(m => !applied.Contains(m.Version)))
        {
            logger.LogInformation("Applying migration {Version:D4}_{Name}{Mode}", migration.Version, migration.Name,
                migration.UpRunsOutsideTransaction ? " (outside a transaction)" : "");
            await RunAsync(connection, migration.UpSql, migration.UpRunsOutsideTransaction, RecordSql, migration, cancellationToken);
            count++;
        }

        logger.LogInformation("Schema is up to date: {Applied} applied now, {Total} in all", count, migrations.Count);
        return count;
    }

    /// <summary>Rolls back the last <paramref name="steps"/> applied migrations, newest first; returns how many.</summary>
    public async Task<int> DownAsync(int steps, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        await using var connection = await OpenLockedAsync(cancellationToken);
        var applied = await ReadAppliedAsync(connection, cancellationToken);
        var count = 0;
        foreach (var row in applied.OrderByDescending(a => a.Version).Take(steps))
        {
            var migration = migrations.SingleOrDefault(m => m.Version == row.Version)
                ?? throw new InvalidOperationException(
                    $"Migration {row.Version:D4}_{row.Name} is applied but this build does not carry its down script.");
            logger.LogInformation("Rolling back migration {Version:D4}_{Name}", migration.Version, migration.Name);
            await RunAsync(connection, migration.DownSql, migration.DownRunsOutsideTransaction, ForgetSql, migration, cancellationToken);
            count++;
        }

        return count;
    }

    /// <summary>Every known migration and whether it is applied.</summary>
    public async Task<IReadOnlyList<MigrationStatus>> StatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenLockedAsync(cancellationToken);
        var applied = (await ReadAppliedAsync(connection, cancellationToken)).ToDictionary(a => a.Version);
        return migrations
            .Select(m => applied.TryGetValue(m.Version, out var row)
                ? new MigrationStatus(m.Version, m.Name, true, new DateTimeOffset(row.AppliedAt, TimeSpan.Zero), Matches(m, row))
                : new MigrationStatus(m.Version, m.Name, false, null, true))
            .ToList();
    }

    private async Task<NpgsqlConnection> OpenLockedAsync(CancellationToken cancellationToken)
    {
        // Not pooled: the lock is the session's, and a pooled connection's session outlives its disposal (a pool keeps
        // it open, idle, for minutes), holding the lock against every other migrator.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await LockAsync(connection, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(CreateHistorySql, cancellationToken: cancellationToken));
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Takes the migrators' lock, held for the connection's life (a crashed migrator's lock goes with its session).
    /// Tried again every <see cref="LockRetryInterval"/> rather than waited for in <c>pg_advisory_lock</c>: a
    /// statement that waits holds a snapshot, and <c>CREATE INDEX CONCURRENTLY</c> in the holder's migration waits
    /// for every older snapshot to end, so the two would wait for each other (PostgreSQL ends one as a deadlock).
    /// </summary>
    private async Task LockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        var reported = TimeSpan.Zero;
        while (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                   "SELECT pg_try_advisory_lock(@Key)", new { Key = AdvisoryLockKey }, cancellationToken: cancellationToken)))
        {
            if (waiting.Elapsed - reported >= LockReportInterval)
            {
                reported = waiting.Elapsed;
                logger.LogInformation("Waiting for another migrator to finish ({Seconds:F0} s so far)", reported.TotalSeconds);
            }

            await Task.Delay(LockRetryInterval, cancellationToken);
        }
    }

    private static async Task<IReadOnlyList<AppliedRow>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<AppliedRow>(new CommandDefinition(AppliedSql, cancellationToken: cancellationToken))).ToList();

    private static bool Matches(Migration migration, AppliedRow row) =>
        row.Checksum == migration.Checksum || row.Checksum == migration.LegacyChecksum;

    // An applied migration whose script changed means this build expects a schema the database does not have (or
    // the reverse): applying more on top would hide it. Rows recorded with the older whole-file checksum that still
    // match are moved to the current one, so a later comment fix in them is not taken for a change.
    private async Task RefuseChangedAsync(NpgsqlConnection connection, IReadOnlyList<AppliedRow> applied, CancellationToken cancellationToken)
    {
        var known = migrations.ToDictionary(m => m.Version);
        var changed = applied
            .Where(row => known.TryGetValue(row.Version, out var migration) && !Matches(migration, row))
            .Select(row => $"{row.Version:D4}_{row.Name}")
            .ToList();
        if (changed.Count > 0)
        {
            throw new MigrationChangedException(changed);
        }

        foreach (var row in applied.Where(row => known.TryGetValue(row.Version, out var m) && row.Checksum != m.Checksum))
        {
            var migration = known[row.Version];
            await connection.ExecuteAsync(new CommandDefinition(UpgradeChecksumSql,
                new { migration.Version, migration.Checksum, migration.LegacyChecksum }, cancellationToken: cancellationToken));
        }

        foreach (var row in applied.Where(row => !known.ContainsKey(row.Version)))
        {
            logger.LogWarning("Migration {Version:D4}_{Name} is applied but unknown to this build (a newer build applied it)", row.Version, row.Name);
        }
    }

    // A migration that loses a deadlock to the system's own writers (a swap under concurrent run deletes did) is run
    // again from its first statement rather than failing `up`: the deadlock rolled back the statement it was in, and
    // a script outside a transaction is safe to run again by the rule for such scripts. Not the failed statement
    // alone: a statement before it may be what cleans up after it (an INVALID index a lost concurrent build leaves).
    private const int DeadlockAttempts = 5;

    private async Task RunAsync(NpgsqlConnection connection, string script, bool outsideTransaction, string bookkeepingSql,
        Migration migration, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RunOnceAsync(connection, script, outsideTransaction, bookkeepingSql, migration, cancellationToken);
                return;
            }
            catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < DeadlockAttempts)
            {
                logger.LogWarning("Migration {Version:D4}_{Name} lost a deadlock with another session (attempt {Attempt} of {Attempts}); running it again from its first statement",
                    migration.Version, migration.Name, attempt, DeadlockAttempts);
                await Task.Delay(LockRetryInterval * attempt, cancellationToken);
            }
        }
    }

    private static async Task RunOnceAsync(NpgsqlConnection connection, string script, bool outsideTransaction, string bookkeepingSql,
        Migration migration, CancellationToken cancellationToken)
    {
        if (!outsideTransaction)
        {
            await RunInTransactionAsync(connection, script, bookkeepingSql, migration, cancellationToken);
            return;
        }

        // One statement per command (PostgreSQL runs a multi-statement command as one implicit transaction).
        foreach (var statement in SqlStatements.Split(script))
        {
            await connection.ExecuteAsync(new CommandDefinition(statement, commandTimeout: 0, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(bookkeepingSql, migration, cancellationToken: cancellationToken));
    }

    // No command timeout: a migration over a large table (an index built concurrently, rows moved) takes what it takes.
    private static async Task RunInTransactionAsync(
        NpgsqlConnection connection, string script, string bookkeepingSql, Migration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(script, transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(bookkeepingSql, migration, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }
}
