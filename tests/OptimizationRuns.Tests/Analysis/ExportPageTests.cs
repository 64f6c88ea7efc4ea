using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Analysis;

/// <summary>
/// Export pages as the silo reads them, with the silo's own data source settings on a pool of one connection: the
/// project set for a page ends with it, pages follow the key, another project's run is not visible.
/// </summary>
public sealed class ExportPageTests
{
    private static async Task<(Guid Project, Guid Run)> RunWithSamplesAsync(int samples)
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        await using var owner = await TestDatabase.OpenOwnerAsync();
        await owner.ExecuteAsync("""
            INSERT INTO optimization_iterations (run_id, project_id, iteration) VALUES (@run, @project, 0), (@run, @project, 1);
            INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, score, success, error)
            SELECT @run, @project, i / 100, i % 100, 'ex-' || i, jsonb_build_object('q', 'ü ' || i), 0.5, i % 7 <> 0,
                   CASE WHEN i % 7 = 0 THEN 'err "' || i || '"' END
            FROM generate_series(0, @samples - 1) i
            """, new { run, project, samples });
        return (project, run);
    }

    private static ServiceProvider SiloData() => new ServiceCollection()
        .AddOptimizationRunsData(new NpgsqlConnectionStringBuilder(TestDatabase.ServiceConnectionString) { MaxPoolSize = 1 }.ConnectionString)
        .BuildServiceProvider();

    [Fact]
    public async Task PagesFollowTheKeyAndTheProjectEndsWithEachPage()
    {
        var (project, run) = await RunWithSamplesAsync(150);
        await using var services = SiloData();
        var queries = services.GetRequiredService<RunAnalysisQueries>();

        var keys = new List<(int, int)>();
        SamplePosition? after = null;
        while (await queries.SamplePageAsync(project, run, after, 40, CancellationToken.None) is { Count: > 0 } page)
        {
            keys.AddRange(page.Select(s => (s.Iteration, s.SampleIndex)));
            after = new SamplePosition(run, page[^1].Iteration, page[^1].SampleIndex);
            var failed = page.FirstOrDefault(s => !s.Success);
            if (failed is not null)
            {
                Assert.Equal($"err \"{failed.Iteration * 100 + failed.SampleIndex}\"", Encoding.UTF8.GetString(failed.Error!));
            }

            // The one pooled connection, right after the page: no project is set, so row-level security shows nothing.
            await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
            Assert.Equal("", await connection.ExecuteScalarAsync<string?>("SELECT current_setting('app.project_id', true)") ?? "");
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_samples"));
        }

        Assert.Equal(Enumerable.Range(0, 150).Select(i => (i / 100, i % 100)), keys);
        var first = (await queries.SamplePageAsync(project, run, null, 1, CancellationToken.None))!.Single();
        Assert.Equal("""{"q": "ü 0"}""", Encoding.UTF8.GetString(first.Inputs!));
        Assert.Equal("ex-0", Encoding.UTF8.GetString(first.ExampleId!));
    }

    [Fact]
    public async Task AnotherProjectsRunIsNotVisible()
    {
        var (_, run) = await RunWithSamplesAsync(3);
        var stranger = await TestDatabase.CreateProjectAsync();
        await using var services = SiloData();
        var queries = services.GetRequiredService<RunAnalysisQueries>();

        Assert.Null(await queries.SamplePageAsync(stranger, run, null, 10, CancellationToken.None));
        Assert.Empty((await queries.SamplePageAsync(stranger, run, new SamplePosition(run, -1, -1), 10, CancellationToken.None))!);
    }
}
