using Dapper;
using Npgsql;
using Xunit;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>Scratch databases go away even when something the owner cannot end is still connected for a moment.</summary>
public sealed class ScratchDatabaseTests
{
    // Stands in for an autovacuum worker visiting the new database, which is what made migration tests
    // fail now and then: a backend of a role the owner is no member of, which leaves by itself.
    [Fact]
    public async Task DroppingWaitsOutAConnectionTheOwnerCannotEnd()
    {
        var database = await ScratchDatabase.CreateAsync();
        var visitor = new NpgsqlConnection(database.ServiceConnectionString + ";Pooling=false");
        await visitor.OpenAsync();
        var leaving = Task.Run(async () =>
        {
            await Task.Delay(1_000);
            await visitor.DisposeAsync();
        });

        await database.DisposeAsync();
        await leaving;

        await using var connection = await TestDatabase.OpenOwnerAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM pg_database WHERE datname = @name", new { name = database.Name }));
    }
}
