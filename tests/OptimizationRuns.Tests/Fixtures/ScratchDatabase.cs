using Dapper;
using Npgsql;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>
/// An empty database of its own on the test server, for tests that migrate, roll back or load a
/// large data set; dropped when disposed.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    private ScratchDatabase(string name)
    {
        Name = name;
        OwnerConnectionString = TestDatabase.WithDatabase(TestDatabase.OwnerConnectionString, name);
        ServiceConnectionString = TestDatabase.WithDatabase(TestDatabase.ServiceConnectionString, name);
    }

    public string Name { get; }

    public string OwnerConnectionString { get; }

    public string ServiceConnectionString { get; }

    public static async Task<ScratchDatabase> CreateAsync()
    {
        var name = $"optruns_scratch_{Guid.NewGuid():N}";
        await using var connection = await TestDatabase.OpenOwnerAsync();
        await connection.ExecuteAsync($"CREATE DATABASE {name}");
        return new ScratchDatabase(name);
    }

    public async Task<NpgsqlConnection> OpenOwnerAsync()
    {
        var connection = new NpgsqlConnection(OwnerConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await connection.ExecuteAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
                return;
            }
            catch (PostgresException e) when (attempt < 40 && e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse)
            {
                // FORCE may not end an autovacuum worker that is busy in the new tables (it has no role
                // the owner is a member of): it finishes within moments, so wait and drop again.
                await Task.Delay(250);
            }
        }
    }
}
