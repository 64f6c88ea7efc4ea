using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// A <see cref="ProjectReader"/> read sends the project's setting and the statement in one command, without a
/// transaction of its own: the setting must hold for that statement, and must be gone when the pooled connection
/// serves the next caller.
/// </summary>
public sealed class ProjectReaderTests
{
    private const string VisibleRunsSql = "SELECT id FROM optimization_runs WHERE id = ANY(@Ids)";

    [Fact]
    public async Task AReadSeesItsProjectsRowsOnly()
    {
        var (a, runA, runB) = await TwoProjectsAsync();
        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ServiceConnectionString);

        var visible = await ProjectReader.RunAsync(dataSource, a,
            reader => reader.QueryAsync<Guid>(VisibleRunsSql, new { Ids = new[] { runA, runB } }), CancellationToken.None);

        Assert.Equal([runA], visible);
    }

    [Fact]
    public async Task TheProjectDoesNotOutliveTheRead()
    {
        var (a, runA, runB) = await TwoProjectsAsync();
        // One connection in the pool: the next open gets the connection the read used.
        var oneConnection = new NpgsqlConnectionStringBuilder(TestDatabase.ServiceConnectionString) { MaxPoolSize = 1, NoResetOnClose = true };
        await using var dataSource = NpgsqlDataSource.Create(oneConnection.ConnectionString);
        int backendOfRead;
        await using (var reader = await ProjectReader.OpenAsync(dataSource, a, CancellationToken.None))
        {
            Assert.Equal([runA], await reader.QueryAsync<Guid>(VisibleRunsSql, new { Ids = new[] { runA, runB } }));
            backendOfRead = await reader.QuerySingleAsync<int>("SELECT pg_backend_pid()", null);
            // Every statement of a reader is scoped by its own command, not by what an earlier one left behind.
            Assert.Equal([runA], await reader.QueryAsync<Guid>(VisibleRunsSql, new { Ids = new[] { runA, runB } }));
        }

        await using var next = await dataSource.OpenConnectionAsync();
        Assert.Equal(backendOfRead, await next.ExecuteScalarAsync<int>("SELECT pg_backend_pid()"));
        Assert.Equal("", await next.ExecuteScalarAsync<string>("SELECT coalesce(current_setting('app.project_id', true), '')"));
        Assert.Empty(await next.QueryAsync<Guid>(VisibleRunsSql, new { Ids = new[] { runA, runB } }));
    }

    [Fact]
    public async Task ARunOfAnotherProjectIsNotVisible()
    {
        var (a, runA, runB) = await TwoProjectsAsync();
        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ServiceConnectionString);
        await using var reader = await ProjectReader.OpenAsync(dataSource, a, CancellationToken.None);

        Assert.NotNull(await reader.QueryRunAsync<int>("SELECT 1", new { RunId = runA }));
        Assert.Null(await reader.QueryRunAsync<int>("SELECT 1", new { RunId = runB }));
    }

    private static async Task<(Guid A, Guid RunA, Guid RunB)> TwoProjectsAsync()
    {
        var a = await TestDatabase.CreateProjectAsync();
        var b = await TestDatabase.CreateProjectAsync();
        return (a, await TestDatabase.CreateRunAsync(a), await TestDatabase.CreateRunAsync(b));
    }
}
