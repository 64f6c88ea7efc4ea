using Dapper;
using Npgsql;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>
/// The PostgreSQL that scripts/test prepared: <c>ConnectionStrings__PostgresOwner</c> (owns the schema,
/// may create databases) and <c>ConnectionStrings__Postgres</c> (the service role, under RLS).
/// </summary>
public static class TestDatabase
{
    static TestDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    /// <summary>The schema owner's connection string: the admin path, past RLS.</summary>
    public static string OwnerConnectionString => Required("ConnectionStrings__PostgresOwner");

    /// <summary>The service role's connection string: what the silo uses, under RLS.</summary>
    public static string ServiceConnectionString => Required("ConnectionStrings__Postgres");

    public static async Task<NpgsqlConnection> OpenOwnerAsync() => await OpenAsync(OwnerConnectionString);

    public static async Task<NpgsqlConnection> OpenServiceAsync() => await OpenAsync(ServiceConnectionString);

    /// <summary>A fresh project, created through the admin path.</summary>
    public static async Task<Guid> CreateProjectAsync(string? name = null)
    {
        await using var connection = await OpenOwnerAsync();
        var id = Guid.NewGuid();
        await connection.ExecuteAsync("INSERT INTO project_config (id, name) VALUES (@id, @name)",
            new { id, name = name ?? $"test-{id:N}" });
        return id;
    }

    /// <summary>A fresh run in <paramref name="projectId"/>, created as the owner.</summary>
    public static async Task<Guid> CreateRunAsync(Guid projectId, string optimizerType = "miprov2")
    {
        await using var connection = await OpenOwnerAsync();
        var id = Guid.NewGuid();
        await connection.ExecuteAsync(
            "INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type) VALUES (@id, @projectId, @name, @optimizerType)",
            new { id, projectId, name = $"run-{id:N}", optimizerType });
        return id;
    }

    /// <summary>Begins a transaction on <paramref name="connection"/> with the project set for RLS, as the silo does.</summary>
    public static async Task<NpgsqlTransaction> BeginProjectTransactionAsync(NpgsqlConnection connection, Guid? projectId)
    {
        var transaction = await connection.BeginTransactionAsync();
        if (projectId is { } id)
        {
            await connection.ExecuteAsync("SELECT set_config('app.project_id', @p, true)", new { p = id.ToString() }, transaction);
        }

        return transaction;
    }

    /// <summary>The owner's connection string pointed at another database on the same server.</summary>
    public static string WithDatabase(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database, Pooling = false }.ConnectionString;

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests through scripts/test, which prepares PostgreSQL.");
}
