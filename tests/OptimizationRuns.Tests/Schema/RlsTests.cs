using Dapper;
using Npgsql;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// Row-level security as the service role: with project A set, project B's rows are invisible and cannot
/// be inserted, updated or deleted, in every tenant table; with no project set nothing is visible.
/// </summary>
public sealed class RlsTests
{
    // table, the column that names the row's project.
    public static TheoryData<string, string> TenantTables => new()
    {
        { "project_config", "id" },
        { "project_api_keys", "project_id" },
        { "optimization_runs", "project_id" },
        { "optimization_iterations", "project_id" },
        { "optimization_samples", "project_id" },
    };

    // table, an insert of a row of project @b (its run is @runB, which has iteration 0).
    public static TheoryData<string, string> ForeignInserts => new()
    {
        { "project_config", "INSERT INTO project_config (id, name) VALUES (gen_random_uuid(), 'intruder')" },
        { "project_api_keys", "INSERT INTO project_api_keys (project_id, prefix, key_hash) VALUES (@b, 'ork_evil', sha256(gen_random_uuid()::text::bytea))" },
        { "optimization_runs", "INSERT INTO optimization_runs (project_id, run_name, optimizer_type) VALUES (@b, 'intruder', 'custom')" },
        { "optimization_iterations", "INSERT INTO optimization_iterations (run_id, project_id, iteration) VALUES (@runB, @b, 99)" },
        { "optimization_samples", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index) VALUES (@runB, @b, 0, 99)" },
    };

    // table, the column that names the row's project, a change to its rows.
    public static TheoryData<string, string, string> ForeignUpdates => new()
    {
        { "project_config", "id", "name = 'stolen'" },
        { "project_api_keys", "project_id", "revoked_at = now()" },
        { "optimization_runs", "project_id", "run_name = 'stolen'" },
        { "optimization_iterations", "project_id", "score = 0.01" },
        { "optimization_samples", "project_id", "error = 'stolen'" },
    };

    [Theory]
    [MemberData(nameof(TenantTables))]
    public async Task OtherProjectsRowsAreInvisible(string table, string projectColumn)
    {
        var (a, b, _) = await SeedTwoProjectsAsync();

        var (own, foreign) = await Service.InProjectAsync(a, async (connection, transaction) => (
            await CountAsync(connection, transaction, table, projectColumn, a),
            await CountAsync(connection, transaction, table, projectColumn, b)));

        Assert.Equal((1L, 0L), (own, foreign));
    }

    [Theory]
    [MemberData(nameof(ForeignInserts))]
    public async Task OtherProjectsRowsCannotBeInserted(string table, string insertSql)
    {
        var (a, b, runB) = await SeedTwoProjectsAsync();
        var before = await SnapshotAsync(table, b);

        var error = await Assert.ThrowsAsync<PostgresException>(() => Service.InProjectAsync(a, (connection, transaction) =>
            connection.ExecuteAsync(insertSql, new { b, runB }, transaction)));

        // Row-level security (new row violates policy) or no INSERT privilege at all: both are 42501.
        Assert.Equal("42501", error.SqlState);
        Assert.Equal(before, await SnapshotAsync(table, b));
    }

    [Theory]
    [MemberData(nameof(ForeignUpdates))]
    public async Task OtherProjectsRowsCannotBeUpdated(string table, string projectColumn, string change)
    {
        var (a, b, _) = await SeedTwoProjectsAsync();
        var before = await SnapshotAsync(table, b);

        var updated = await AffectedOrDeniedAsync(a, $"UPDATE {table} SET {change} WHERE {projectColumn} = @b", b);

        Assert.Equal(0, updated);
        Assert.Equal(before, await SnapshotAsync(table, b));
    }

    [Theory]
    [MemberData(nameof(TenantTables))]
    public async Task OtherProjectsRowsCannotBeDeleted(string table, string projectColumn)
    {
        var (a, b, _) = await SeedTwoProjectsAsync();
        var before = await SnapshotAsync(table, b);

        var deleted = await AffectedOrDeniedAsync(a, $"DELETE FROM {table} WHERE {projectColumn} = @b", b);

        Assert.Equal(0, deleted);
        Assert.Equal(before, await SnapshotAsync(table, b));
    }

    [Theory]
    [MemberData(nameof(TenantTables))]
    public async Task NothingIsVisibleWithoutAProject(string table, string projectColumn)
    {
        var (a, _, _) = await SeedTwoProjectsAsync();

        var count = await Service.InProjectAsync(null, (connection, transaction) =>
            connection.QuerySingleAsync<long>($"SELECT count(*) FROM {table}", transaction: transaction));

        Assert.Equal(0, count);
        Assert.Equal(1, await Owner.QuerySingleAsync<long>($"SELECT count(*) FROM {table} WHERE {projectColumn} = @a", new { a }));
    }

    [Fact]
    public async Task TheProjectSettingEndsWithItsTransaction()
    {
        var (a, _, _) = await SeedTwoProjectsAsync();
        await using var connection = await TestDatabase.OpenServiceAsync();
        await using (var first = await TestDatabase.BeginProjectTransactionAsync(connection, a))
        {
            Assert.Equal(1, await CountAsync(connection, first, "optimization_runs", "project_id", a));
            await first.CommitAsync();
        }

        await using var second = await TestDatabase.BeginProjectTransactionAsync(connection, null);
        Assert.Equal(0, await connection.QuerySingleAsync<long>("SELECT count(*) FROM optimization_runs", transaction: second));
    }

    [Fact]
    public async Task OwnRunCannotBeMovedIntoAnotherProject()
    {
        var (a, b, _) = await SeedTwoProjectsAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => Service.InProjectAsync(a, (connection, transaction) =>
            connection.ExecuteAsync("UPDATE optimization_runs SET project_id = @b WHERE project_id = @a", new { a, b }, transaction)));

        Assert.Equal("42501", error.SqlState);
        Assert.Equal(1, await Owner.QuerySingleAsync<long>("SELECT count(*) FROM optimization_runs WHERE project_id = @a", new { a }));
    }

    [Fact]
    public async Task OwnProjectsRowsCanBeWritten()
    {
        var (a, _, _) = await SeedTwoProjectsAsync();

        var written = await Service.InProjectAsync(a, async (connection, transaction) =>
        {
            var run = await connection.QuerySingleAsync<Guid>(
                "INSERT INTO optimization_runs (project_id, run_name, optimizer_type) VALUES (@a, 'own', 'gepa') RETURNING id", new { a }, transaction);
            await connection.ExecuteAsync(
                "INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score) VALUES (@run, @a, 0, 'baseline', 0.5)", new { run, a }, transaction);
            await connection.ExecuteAsync(
                "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index) VALUES (@run, @a, 0, 0)", new { run, a }, transaction);
            return await connection.ExecuteAsync("UPDATE optimization_runs SET description = 'mine' WHERE id = @run", new { run }, transaction);
        });

        Assert.Equal(1, written);
        Assert.Equal(2, await Owner.QuerySingleAsync<long>("SELECT count(*) FROM optimization_runs WHERE project_id = @a", new { a }));
    }

    /// <summary>Projects A and B, each with an API key and a run with iteration 0 and its sample 0, written as the owner.</summary>
    private static async Task<(Guid A, Guid B, Guid RunB)> SeedTwoProjectsAsync()
    {
        var a = await SeedProjectAsync();
        var b = await SeedProjectAsync();
        return (a.Project, b.Project, b.Run);
    }

    private static async Task<(Guid Project, Guid Run)> SeedProjectAsync()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.5m);
        await Owner.InsertSampleAsync(run, 0, 0);
        await Owner.ExecuteAsync(
            "INSERT INTO project_api_keys (project_id, prefix, key_hash) VALUES (@project, 'ork_seed', sha256(@project::text::bytea))",
            new { project });
        return (project, run);
    }

    private static Task<long> CountAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, string projectColumn, Guid project) =>
        connection.QuerySingleAsync<long>($"SELECT count(*) FROM {table} WHERE {projectColumn} = @project", new { project }, transaction);

    /// <summary>The rows affected as the service in project <paramref name="a"/>; 0 when the service may not run the statement at all.</summary>
    private static async Task<int> AffectedOrDeniedAsync(Guid a, string sql, Guid b)
    {
        try
        {
            return await Service.InProjectAsync(a, (connection, transaction) => connection.ExecuteAsync(sql, new { b }, transaction));
        }
        catch (PostgresException error) when (error.SqlState == "42501")
        {
            return 0;
        }
    }

    /// <summary>Project <paramref name="b"/>'s rows of <paramref name="table"/> as the owner sees them.</summary>
    private static Task<string> SnapshotAsync(string table, Guid b)
    {
        var projectColumn = table == "project_config" ? "id" : "project_id";
        return Owner.QuerySingleAsync<string>(
            $"SELECT count(*) || ':' || COALESCE(string_agg(to_jsonb(t)::text, '|' ORDER BY to_jsonb(t)::text), '') FROM {table} t WHERE {projectColumn} = @b",
            new { b });
    }
}
