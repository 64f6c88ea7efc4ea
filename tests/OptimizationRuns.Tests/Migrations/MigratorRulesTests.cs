using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Migrations;

/// <summary>Migrations outside a transaction, and <c>up</c> refusing an applied migration that changed.</summary>
public sealed class MigratorRulesTests
{
    private static readonly IReadOnlyList<Migration> All = MigrationCatalog.Load();

    private static Migrator MigratorFor(ScratchDatabase database, IReadOnlyList<Migration> migrations) =>
        new(database.OwnerConnectionString, migrations, NullLogger.Instance);

    private static Migration Next(string up, string down, string name = "extra") => new(All[^1].Version + 1, name, up, down);

    // The lock is the session's: a migrator on a pooled connection string once left it held by the pool's idle
    // connection for minutes after it finished, and every other migrator (a silo starting) waited that long.
    [Fact]
    public async Task AMigratorThatFinishedHoldsNoLock()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var pooled = new NpgsqlConnectionStringBuilder(database.OwnerConnectionString) { Pooling = true }.ConnectionString;

        await new Migrator(pooled, All, NullLogger.Instance).UpAsync(CancellationToken.None);
        await new Migrator(pooled, All, NullLogger.Instance).StatusAsync(CancellationToken.None);

        await using var connection = await database.OpenOwnerAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()"));
    }

    [Fact]
    public async Task AMarkedMigrationBuildsAnIndexConcurrentlyAndItsDownDropsItConcurrently()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var concurrent = Next(
            $"""
            {Migration.NoTransactionMarker}
            -- Concurrently, so writers to the runs table are not blocked while it builds.
            DROP INDEX CONCURRENTLY IF EXISTS runs_error_idx;
            CREATE INDEX CONCURRENTLY runs_error_idx ON optimization_runs (error_message);
            """,
            $"""
            {Migration.NoTransactionMarker}
            DROP INDEX CONCURRENTLY IF EXISTS runs_error_idx;
            """);
        var migrator = MigratorFor(database, [.. All, concurrent]);

        Assert.Equal(All.Count + 1, await migrator.UpAsync(CancellationToken.None));

        await using var connection = await database.OpenOwnerAsync();
        Assert.True(await connection.ExecuteScalarAsync<bool>(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'runs_error_idx'::regclass"));
        Assert.True((await migrator.StatusAsync(CancellationToken.None))[^1].Applied);

        Assert.Equal(1, await migrator.DownAsync(1, CancellationToken.None));
        Assert.Null(await connection.ExecuteScalarAsync<string?>("SELECT to_regclass('runs_error_idx')::text"));
        Assert.False((await migrator.StatusAsync(CancellationToken.None))[^1].Applied);
    }

    [Fact]
    public async Task WithoutTheMarkerAConcurrentIndexIsRefusedInsideTheTransaction()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var unmarked = Next("CREATE INDEX CONCURRENTLY runs_error_idx ON optimization_runs (error_message);",
            "DROP INDEX runs_error_idx;");

        var error = await Assert.ThrowsAsync<PostgresException>(() => MigratorFor(database, [.. All, unmarked]).UpAsync(CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.ActiveSqlTransaction, error.SqlState);
    }

    [Fact]
    public async Task AFailedMigrationOutsideATransactionIsNotRecordedAndCompletesWhenRunAgain()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await MigratorFor(database, All).UpAsync(CancellationToken.None);
        await using var connection = await database.OpenOwnerAsync();
        await connection.ExecuteAsync("CREATE TABLE blocker (id int)");
        var migration = Next(
            $"""
            {Migration.NoTransactionMarker}
            CREATE TABLE IF NOT EXISTS first_half (id int);
            CREATE TABLE blocker_copy AS SELECT 1 / (SELECT count(*) FROM blocker)::int AS x;
            """,
            "DROP TABLE IF EXISTS blocker_copy; DROP TABLE IF EXISTS first_half;");

        await Assert.ThrowsAsync<PostgresException>(() => MigratorFor(database, [.. All, migration]).UpAsync(CancellationToken.None));
        Assert.NotNull(await connection.ExecuteScalarAsync<string?>("SELECT to_regclass('first_half')::text"));
        Assert.False((await MigratorFor(database, [.. All, migration]).StatusAsync(CancellationToken.None))[^1].Applied);

        await connection.ExecuteAsync("INSERT INTO blocker VALUES (1)");
        Assert.Equal(1, await MigratorFor(database, [.. All, migration]).UpAsync(CancellationToken.None));
    }

    // Migration 0014's swap lost a deadlock to a run delete cascading into the table it swapped, and `up` failed
    // where it should have waited. Here a session holds the table the migration wants second and asks for the one
    // the migration took first while the migration sleeps (10 s, on its first attempt only, so that a slow machine
    // still asks in time). PostgreSQL checks for a deadlock once, a second after a session starts waiting: the other
    // session's check finds none (the migration is not waiting yet), so the migration's, once it waits too, is the
    // one that ends a statement, and it is the migration's. Inside a transaction the first attempt's rows are rolled
    // back with it; outside one they stay, and the script is safe to run again.
    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    public async Task AMigrationThatLosesADeadlockRunsAgainFromItsFirstStatementAndIsApplied(bool outsideTransaction, int rowsKept)
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await MigratorFor(database, All).UpAsync(CancellationToken.None);
        await using var connection = await database.OpenOwnerAsync();
        await connection.ExecuteAsync(
            "CREATE TABLE held_first (id int); CREATE TABLE held_second (id int); CREATE TABLE attempts (at timestamptz); CREATE SEQUENCE attempt_number");
        var migration = Next(
            $"""
            {(outsideTransaction ? Migration.NoTransactionMarker : "-- in a transaction")}
            INSERT INTO attempts VALUES (now());
            DO $$ BEGIN
                LOCK TABLE held_first IN ACCESS EXCLUSIVE MODE;
                IF nextval('attempt_number') = 1 THEN PERFORM pg_sleep(10); END IF;
                LOCK TABLE held_second IN ACCESS EXCLUSIVE MODE;
            END $$;
            """,
            "SELECT 1;");
        var log = new LogLines();
        await using var other = await database.OpenOwnerAsync();
        await using var otherTransaction = await other.BeginTransactionAsync();
        await other.ExecuteAsync("LOCK TABLE held_second IN ACCESS EXCLUSIVE MODE", transaction: otherTransaction);

        var up = new Migrator(database.OwnerConnectionString, [.. All, migration], log.Logger).UpAsync(CancellationToken.None);
        await WaitUntilAsync(async () => await connection.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'held_first'::regclass AND granted)"));
        await other.ExecuteAsync("LOCK TABLE held_first IN ACCESS EXCLUSIVE MODE", transaction: otherTransaction);
        await otherTransaction.CommitAsync();

        Assert.Equal(1, await up.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT last_value FROM attempt_number"));
        Assert.Equal(rowsKept, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM attempts"));
        Assert.True((await MigratorFor(database, [.. All, migration]).StatusAsync(CancellationToken.None))[^1].Applied);
        Assert.Contains(log.Warnings, line => line.Contains("deadlock", StringComparison.Ordinal) && line.Contains(migration.Name, StringComparison.Ordinal));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the migration never took its first lock");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task UpRefusesWhenAnAppliedMigrationChangedAndAppliesNothing()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await MigratorFor(database, All).UpAsync(CancellationToken.None);
        var edited = All.Select(m => m.Version == 1 ? m with { UpSql = m.UpSql + "\nCREATE TABLE sneaked_in (id int);\n" } : m).ToList();
        var pending = Next("CREATE TABLE pending_one (id int);", "DROP TABLE pending_one;");

        var error = await Assert.ThrowsAsync<MigrationChangedException>(() =>
            MigratorFor(database, [.. edited, pending]).UpAsync(CancellationToken.None));

        Assert.Equal(["0001_tracking_schema"], error.Migrations);
        Assert.Contains("0001_tracking_schema", error.Message);
        await using var connection = await database.OpenOwnerAsync();
        Assert.Null(await connection.ExecuteScalarAsync<string?>("SELECT to_regclass('pending_one')::text"));
        Assert.False((await MigratorFor(database, [.. edited, pending]).StatusAsync(CancellationToken.None))[0].ChecksumMatches);
    }

    [Fact]
    public async Task TheMigrateCommandExitsNonZeroNamingTheChangedMigration()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await MigratorFor(database, All).UpAsync(CancellationToken.None);
        await using var connection = await database.OpenOwnerAsync();
        await connection.ExecuteAsync("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:PostgresOwner"] = database.OwnerConnectionString })
            .Build();

        Assert.Equal(1, await MigrateCommand.RunAsync(["up"], configuration, CancellationToken.None));
    }

    [Fact]
    public async Task ACommentChangeInAnAppliedMigrationIsNotAChange()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await MigratorFor(database, All).UpAsync(CancellationToken.None);
        var recommented = All.Select(m => m.Version == 1
            ? m with { UpSql = m.UpSql.Replace("see scripts/db.sh", "see scripts/lib.sh", StringComparison.Ordinal) + "\n-- a note added later\n" }
            : m).ToList();
        Assert.NotEqual(All[0].UpSql, recommented[0].UpSql);

        Assert.Equal(0, await MigratorFor(database, recommented).UpAsync(CancellationToken.None));
        Assert.True((await MigratorFor(database, recommented).StatusAsync(CancellationToken.None))[0].ChecksumMatches);
    }

    [Fact]
    public async Task AChecksumRecordedOverTheWholeFileIsAcceptedAndMovedToTheCurrentOne()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await MigratorFor(database, All).UpAsync(CancellationToken.None);
        await using var connection = await database.OpenOwnerAsync();
        // What databases migrated before checksums left comments out hold.
        foreach (var migration in All)
        {
            await connection.ExecuteAsync("UPDATE schema_migrations SET checksum = @LegacyChecksum WHERE version = @Version", migration);
        }

        Assert.Equal(0, await MigratorFor(database, All).UpAsync(CancellationToken.None));

        var recorded = (await connection.QueryAsync<string>("SELECT checksum FROM schema_migrations ORDER BY version")).ToList();
        Assert.Equal(All.Select(m => m.Checksum), recorded);
    }
}
