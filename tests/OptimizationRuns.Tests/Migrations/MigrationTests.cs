using Xunit;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Migrations;

public sealed class MigrationTests
{
    private static readonly IReadOnlyList<Migration> All = MigrationCatalog.Load();

    private static Migrator MigratorFor(ScratchDatabase database) =>
        new(database.OwnerConnectionString, All, NullLogger.Instance);

    [Fact]
    public void EveryMigrationIsEmbeddedWithItsDownScript()
    {
        Assert.True(All.Count >= 2, "the tracking schema and the Orleans tables");
        // Ascending from 1 and unique; numbers may be reserved ahead (a branch lands 0013 before another's 0009).
        Assert.Equal(1, All[0].Version);
        Assert.Equal(All.Select(m => m.Version).Distinct().Order(), All.Select(m => m.Version));
        Assert.All(All, m => Assert.False(string.IsNullOrWhiteSpace(m.DownSql)));
    }

    [Fact]
    public async Task UpTwiceAppliesEachMigrationOnce()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var migrator = MigratorFor(database);

        Assert.Equal(All.Count, await migrator.UpAsync(CancellationToken.None));
        var afterFirst = await CatalogSnapshot.TakeAsync(database.OwnerConnectionString);
        Assert.Equal(0, await migrator.UpAsync(CancellationToken.None));

        Assert.Equal(afterFirst, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
        var status = await migrator.StatusAsync(CancellationToken.None);
        Assert.All(status, s => Assert.True(s.Applied && s.ChecksumMatches, $"{s.Version} {s.Name}"));
    }

    [Fact]
    public async Task UpDownUpLeavesTheSameCatalog()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var migrator = MigratorFor(database);
        var empty = await CatalogSnapshot.TakeAsync(database.OwnerConnectionString);

        await migrator.UpAsync(CancellationToken.None);
        var migrated = await CatalogSnapshot.TakeAsync(database.OwnerConnectionString);
        Assert.Contains(migrated, line => line.StartsWith("policy optimization_samples.", StringComparison.Ordinal));

        Assert.Equal(All.Count, await migrator.DownAsync(All.Count, CancellationToken.None));
        var rolledBack = await CatalogSnapshot.TakeAsync(database.OwnerConnectionString);
        // Only the migrator's own history table may remain after rolling everything back.
        Assert.Equal(empty, rolledBack.Where(line => !line.Contains("schema_migrations", StringComparison.Ordinal)));

        await migrator.UpAsync(CancellationToken.None);
        Assert.Equal(migrated, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
    }

    [Fact]
    public async Task DownRollsBackOnlyTheLastN()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var migrator = MigratorFor(database);
        await migrator.UpAsync(CancellationToken.None);

        Assert.Equal(1, await migrator.DownAsync(1, CancellationToken.None));

        var status = await migrator.StatusAsync(CancellationToken.None);
        Assert.False(status[^1].Applied);
        Assert.All(status.SkipLast(1), s => Assert.True(s.Applied));
    }

    [Fact]
    public async Task ConcurrentMigratorsBothSucceedAndApplyEachMigrationOnce()
    {
        await using var database = await ScratchDatabase.CreateAsync();

        var results = await Task.WhenAll(
            Enumerable.Range(0, 4).Select(_ => Task.Run(() => MigratorFor(database).UpAsync(CancellationToken.None))));

        Assert.Equal(All.Count, results.Sum());
        await using var connection = await database.OpenOwnerAsync();
        var versions = (await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")).ToList();
        Assert.Equal(All.Select(m => m.Version), versions);
    }

    [Fact]
    public async Task AFailingMigrationLeavesNothingBehind()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var broken = All.Append(new Migration(All[^1].Version + 1, "broken",
            "CREATE TABLE half_done (id int); SELECT 1/0;", "DROP TABLE half_done;")).ToList();

        await Assert.ThrowsAsync<PostgresException>(() =>
            new Migrator(database.OwnerConnectionString, broken, NullLogger.Instance).UpAsync(CancellationToken.None));

        await using var connection = await database.OpenOwnerAsync();
        Assert.Null(await connection.ExecuteScalarAsync<string?>("SELECT to_regclass('half_done')::text"));
        Assert.Equal(All.Count, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task ASiloConfiguredToMigrateOnStartAppliesThePendingMigrations()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:PostgresOwner"] = database.OwnerConnectionString })
            .Build();

        await new MigrateOnStart(configuration, NullLogger<MigrateOnStart>.Instance).StartAsync(CancellationToken.None);

        var status = await MigratorFor(database).StatusAsync(CancellationToken.None);
        Assert.All(status, s => Assert.True(s.Applied, $"{s.Version:D4}_{s.Name} was not applied"));
    }
}
