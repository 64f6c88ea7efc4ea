using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Migrations;

/// <summary>
/// Migration 0017 rebuilds the list's four order indexes online, one statement at a time outside a transaction: a
/// migrator stopped after any of its statements leaves the migration unrecorded, and the next <c>up</c> completes
/// it to exactly the schema of a database migrated in one go.
/// </summary>
public sealed class OrderIndexMigrationTests
{
    private const int OrderIndexVersion = 17;

    private static readonly IReadOnlyList<Migration> All = MigrationCatalog.Load();

    // After the leftover's drop, the new index, the old one's drop, the rename, and every statement (nothing recorded).
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(int.MaxValue)]
    public async Task StoppedAfterAnyStatementTheMigrationCompletesWhenRunAgain(int statementsRun)
    {
        var migration = All.Single(m => m.Version == OrderIndexVersion);
        Assert.True(migration.UpRunsOutsideTransaction);
        await using var reference = await ScratchDatabase.CreateAsync();
        await new Migrator(reference.OwnerConnectionString, All, NullLogger.Instance).UpAsync(CancellationToken.None);
        var expected = await CatalogSnapshot.TakeAsync(reference.OwnerConnectionString);

        await using var database = await ScratchDatabase.CreateAsync();
        var before = All.Where(m => m.Version < OrderIndexVersion).ToList();
        await new Migrator(database.OwnerConnectionString, before, NullLogger.Instance).UpAsync(CancellationToken.None);
        await using (var connection = await database.OpenOwnerAsync())
        {
            foreach (var statement in SqlStatements.Split(migration.UpSql).Take(statementsRun))
            {
                await connection.ExecuteAsync(statement);
            }
        }

        var applied = await new Migrator(database.OwnerConnectionString, All, NullLogger.Instance).UpAsync(CancellationToken.None);

        Assert.Equal(All.Count(m => m.Version >= OrderIndexVersion), applied);
        Assert.Equal(expected, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
    }
}
