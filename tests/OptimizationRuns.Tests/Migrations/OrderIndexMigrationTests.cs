using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Migrations;

/// <summary>
/// Migration 0017 rebuilds the list's four order indexes online, one statement at a time outside a transaction: a
/// migrator stopped after any of its statements leaves the migration unrecorded, and the next <c>up</c> completes
/// it to exactly the schema of a database migrated in one go; its down script, stopped and run again, likewise. A
/// database holding a run whose tags no index entry can hold is refused before anything is built.
/// </summary>
public sealed class OrderIndexMigrationTests
{
    private const int OrderIndexVersion = 17;

    private static readonly IReadOnlyList<Migration> All = MigrationCatalog.Load();

    private static readonly Migration OrderIndexes = All.Single(m => m.Version == OrderIndexVersion);

    private static readonly IReadOnlyList<Migration> Before = All.Where(m => m.Version < OrderIndexVersion).ToList();

    private static readonly IReadOnlyList<Migration> Through = All.Where(m => m.Version <= OrderIndexVersion).ToList();

    // The first group's statements after the check: 2 the rename of a group stopped before it, 3 the drop of a
    // leftover, 4 the new index, 5 the old one's drop, 6 the rename; and every statement (nothing recorded).
    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(int.MaxValue)]
    public async Task StoppedAfterAnyStatementTheMigrationCompletesWhenRunAgain(int statementsRun)
    {
        Assert.True(OrderIndexes.UpRunsOutsideTransaction);
        var expected = await MigratedCatalogAsync(Through);
        await using var database = await MigratedAsync(Before);
        await RunAsync(database, OrderIndexes.UpSql, statementsRun);

        Assert.Equal(1, await MigratorFor(database, Through).UpAsync(CancellationToken.None));

        Assert.Equal(expected, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
    }

    // A build that failed leaves its index INVALID under the new name (here a unique one that the runs contradict).
    [Fact]
    public async Task AnInvalidIndexLeftByAFailedBuildIsReplaced()
    {
        var expected = await MigratedCatalogAsync(Through);
        await using var database = await MigratedAsync(Before);
        await using (var connection = await database.OpenOwnerAsync())
        {
            await AddRunsAsync(connection, 2);
            await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
                "CREATE UNIQUE INDEX CONCURRENTLY optimization_runs_project_created_tags_idx ON optimization_runs (project_id)"));
            Assert.False(await connection.ExecuteScalarAsync<bool>(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = 'optimization_runs_project_created_tags_idx'::regclass"));
        }

        Assert.Equal(1, await MigratorFor(database, Through).UpAsync(CancellationToken.None));

        Assert.Equal(expected, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(int.MaxValue)]
    public async Task AStoppedDownCompletesWhenRunAgain(int statementsRun)
    {
        var expected = await MigratedCatalogAsync(Before);
        await using var database = await MigratedAsync(Through);
        await RunAsync(database, OrderIndexes.DownSql, statementsRun);

        Assert.Equal(1, await MigratorFor(database, Through).DownAsync(1, CancellationToken.None));

        Assert.Equal(expected, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
    }

    [Fact]
    public async Task ARunWithMoreTagsThanAnIndexEntryHoldsIsRefusedBeforeAnythingIsBuilt()
    {
        await using var database = await MigratedAsync(Before);
        var before = await CatalogSnapshot.TakeAsync(database.OwnerConnectionString);
        await using var connection = await database.OpenOwnerAsync();
        var run = (await AddRunsAsync(connection, 1))[0];
        // 30 tags of 100 characters, stored before the limit: 3,000 bytes.
        await connection.ExecuteAsync(
            "UPDATE optimization_runs SET tags = ARRAY(SELECT lpad(n::text, 100, md5(n::text)) FROM generate_series(1, 30) n) WHERE id = @run",
            new { run });

        var error = await Assert.ThrowsAsync<PostgresException>(() => MigratorFor(database, Through).UpAsync(CancellationToken.None));

        Assert.Contains("1 run(s) have tags of more than 2,000 bytes", error.MessageText);
        Assert.Equal(before, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
        Assert.DoesNotContain(await MigratorFor(database, Through).StatusAsync(CancellationToken.None), s => s.Version == OrderIndexVersion && s.Applied);
    }

    private static Migrator MigratorFor(ScratchDatabase database, IReadOnlyList<Migration> migrations) =>
        new(database.OwnerConnectionString, migrations, NullLogger.Instance);

    private static async Task<ScratchDatabase> MigratedAsync(IReadOnlyList<Migration> migrations)
    {
        var database = await ScratchDatabase.CreateAsync();
        await MigratorFor(database, migrations).UpAsync(CancellationToken.None);
        return database;
    }

    private static async Task<IReadOnlyList<string>> MigratedCatalogAsync(IReadOnlyList<Migration> migrations)
    {
        await using var reference = await MigratedAsync(migrations);
        return await CatalogSnapshot.TakeAsync(reference.OwnerConnectionString);
    }

    // Runs of one new project, as the owner.
    private static async Task<List<Guid>> AddRunsAsync(NpgsqlConnection connection, int count)
    {
        var project = Guid.NewGuid();
        await connection.ExecuteAsync("INSERT INTO project_config (id, name) VALUES (@project, 'p')", new { project });
        return (await connection.QueryAsync<Guid>("""
            INSERT INTO optimization_runs (project_id, run_name, optimizer_type)
            SELECT @project, 'run-' || n, 'miprov2' FROM generate_series(1, @count) n RETURNING id
            """, new { project, count })).ToList();
    }

    // The first statements of a script, as a migrator that stopped after them ran them.
    private static async Task RunAsync(ScratchDatabase database, string script, int statements)
    {
        await using var connection = await database.OpenOwnerAsync();
        foreach (var statement in SqlStatements.Split(script).Take(statements))
        {
            await connection.ExecuteAsync(statement);
        }
    }
}
