using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Telemetry;

/// <summary>
/// The slow-statement log on the silo's own data source and project transactions, against the real PostgreSQL: a
/// statement made slow for real (<c>pg_sleep</c>) is logged with its name, project, duration and trace, never its
/// parameters; a fast one is not.
/// </summary>
public sealed class SlowQueryLogTests
{
    // A threshold of a second: on a machine at load 50+ even set_config or SELECT 1 can take over 50 ms, and that is
    // not what these tests are about.
    private static readonly TimeSpan Threshold = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task SlowStatementIsLoggedWithNameProjectDurationAndTraceButNotItsParameters()
    {
        var lines = new LogLines();
        await using var services = SiloData(lines, Threshold);
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var slowProject = await TestDatabase.CreateProjectAsync();
        var fastProject = await TestDatabase.CreateProjectAsync();
        using var trace = new Activity("slow-query-test").SetIdFormat(ActivityIdFormat.W3C).Start();

        await ProjectTransaction.RunAsync(dataSource, slowProject, scope => scope.Connection.ExecuteAsync(
            scope.Command("SELECT pg_sleep(@seconds), @secret::text", new { seconds = 1.2, secret = "user-secret-value" }, CancellationToken.None)),
            CancellationToken.None);
        await ProjectTransaction.RunAsync(dataSource, fastProject, scope => scope.Connection.ExecuteScalarAsync<int>(
            scope.Command("SELECT 1", null, CancellationToken.None)), CancellationToken.None);

        var slow = Assert.Single(lines.Warnings, l => l.Contains(slowProject.ToString()));
        Assert.StartsWith($"Slow statement SELECT pg_sleep for project {slowProject} took ", slow);
        Assert.EndsWith($" ms (trace {trace.TraceId})", slow);
        var milliseconds = double.Parse(slow.Split(" took ")[1].Split(" ms")[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(milliseconds, 1_200, 30_000);
        Assert.DoesNotContain("user-secret-value", string.Join('\n', lines.All));
        Assert.DoesNotContain(lines.Warnings, l => l.Contains(fastProject.ToString()));
    }

    [Fact]
    public async Task SlowReadIsLoggedByItsStatementAndProject()
    {
        var lines = new LogLines();
        await using var services = SiloData(lines, Threshold);
        var project = await TestDatabase.CreateProjectAsync();

        await ProjectReader.RunAsync(services.GetRequiredService<NpgsqlDataSource>(), project,
            reader => reader.QuerySingleAsync<string>("SELECT pg_sleep(@seconds)::text", new { seconds = 1.1 }), CancellationToken.None);

        var slow = Assert.Single(lines.Warnings, l => l.Contains(project.ToString()));
        Assert.StartsWith($"Slow statement SELECT pg_sleep for project {project} took ", slow);
    }

    [Fact]
    public async Task SlowDataSourceCommandIsLoggedWithoutAProject()
    {
        var lines = new LogLines();
        await using var services = SiloData(lines, Threshold);
        using var trace = new Activity("slow-query-test").SetIdFormat(ActivityIdFormat.W3C).Start();

        await using var command = services.GetRequiredService<NpgsqlDataSource>().CreateCommand("SELECT pg_sleep(1.1)");
        await command.ExecuteNonQueryAsync();

        var slow = Assert.Single(lines.Warnings, l => l.EndsWith($"(trace {trace.TraceId})", StringComparison.Ordinal));
        Assert.StartsWith("Slow statement SELECT pg_sleep for project none took ", slow);
    }

    [Fact]
    public async Task ZeroThresholdLogsNothing()
    {
        var lines = new LogLines();
        await using var services = SiloData(lines, TimeSpan.Zero);
        var project = await TestDatabase.CreateProjectAsync();

        await ProjectTransaction.RunAsync(services.GetRequiredService<NpgsqlDataSource>(), project, scope => scope.Connection.ExecuteAsync(
            scope.Command("SELECT pg_sleep(0.1)", null, CancellationToken.None)), CancellationToken.None);

        Assert.DoesNotContain(lines.Warnings, l => l.Contains(project.ToString()));
    }

    [Theory]
    [InlineData("SELECT id, run_name FROM optimization_runs WHERE id = $1", "SELECT optimization_runs")]
    [InlineData("\n  insert into optimization_samples (run_id) values (@RunId)", "INSERT optimization_samples")]
    [InlineData("UPDATE optimization_runs SET status = @Status", "UPDATE optimization_runs")]
    [InlineData("COPY optimization_samples (run_id) FROM STDIN (FORMAT BINARY)", "COPY optimization_samples")]
    [InlineData("SELECT refresh_run_analytics()", "SELECT refresh_run_analytics")]
    [InlineData("SELECT ARRAY(SELECT search_run_ids(@Tags, @Limit))", "SELECT search_run_ids")]
    [InlineData("SELECT EXISTS (SELECT admin_check(@Key))", "SELECT admin_check")]
    [InlineData("", "unknown")]
    [InlineData(ProjectReader.SetProjectSql + "SELECT run_summary(@RunId)::text", "SELECT run_summary")]
    [InlineData(ProjectReader.SetProjectSql + ProjectReader.RunExistsSql + "WITH page AS (SELECT 1 FROM optimization_samples)", "WITH optimization_samples")]
    [InlineData(ProjectReader.SetProjectSql + ProjectReader.RunExistsSql, "SELECT optimization_runs")]
    public void StatementNameIsItsVerbAndFirstRelation(string sql, string name) =>
        Assert.Equal(name, SlowQueryLog.StatementName(sql));

    // A search's steps as the run list sends them: the first look (verdict and walk in one command) is named by the
    // estimate it starts with, the ids' search by its function, so a slow one says which step it was.
    [Fact]
    public void ASearchsStepsAreNamedByTheFunctionTheyCall()
    {
        var query = new RunListQuery { Tags = ["qa"] };
        var look = RunListQueries.FirstLookStatement(Guid.NewGuid(), query, RunListQueries.Range.FromStart, 21);
        Assert.Equal("WITH search_run_estimate", SlowQueryLog.StatementName(ProjectReader.SetProjectSql + look.Sql));
        Assert.Equal("SELECT search_run_ids", SlowQueryLog.StatementName(ProjectReader.SetProjectSql + RunListQueries.SearchStatement(query)!.Value.Sql));
    }

    private static ServiceProvider SiloData(LogLines lines, TimeSpan threshold) => new ServiceCollection()
        .AddLogging(logging => logging.AddProvider(lines))
        .Configure<SlowQueryLogOptions>(o => o.SlowQueryThreshold = threshold)
        .AddOptimizationRunsData(TestDatabase.ServiceConnectionString)
        .BuildServiceProvider();
}
