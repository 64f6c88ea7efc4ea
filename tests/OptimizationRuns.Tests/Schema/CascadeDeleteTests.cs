using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>Deletes cascade down the tree: project → keys and runs → iterations → samples, and nothing else goes.</summary>
public sealed class CascadeDeleteTests
{
    private const string CountsSql = """
        SELECT (SELECT count(*) FROM optimization_runs WHERE id = @run)
             + (SELECT count(*) FROM optimization_iterations WHERE run_id = @run)
             + (SELECT count(*) FROM optimization_samples WHERE run_id = @run)
        """;

    [Fact]
    public async Task DeletingARunRemovesItsIterationsAndSamplesOnly()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await RunWithSamplesAsync(project);
        var sibling = await RunWithSamplesAsync(project);

        await Owner.ExecuteAsync("DELETE FROM optimization_runs WHERE id = @run", new { run });

        Assert.Equal(0, await Owner.QuerySingleAsync<long>(CountsSql, new { run }));
        Assert.Equal(1 + 2 + 3, await Owner.QuerySingleAsync<long>(CountsSql, new { run = sibling }));
    }

    [Fact]
    public async Task ServiceDeletingItsRunAlsoRemovesIterationsAndSamples()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await RunWithSamplesAsync(project);

        var deleted = await Service.InProjectAsync(project, (connection, transaction) =>
            connection.ExecuteAsync("DELETE FROM optimization_runs WHERE id = @run", new { run }, transaction));

        Assert.Equal(1, deleted);
        Assert.Equal(0, await Owner.QuerySingleAsync<long>(CountsSql, new { run }));
    }

    [Fact]
    public async Task DeletingAnIterationRemovesItsSamplesOnly()
    {
        var run = await RunWithSamplesAsync(await TestDatabase.CreateProjectAsync());

        await Owner.ExecuteAsync("DELETE FROM optimization_iterations WHERE run_id = @run AND iteration = 1", new { run });

        var left = await Owner.QueryAsync<int>("SELECT iteration FROM optimization_samples WHERE run_id = @run ORDER BY iteration", new { run });
        Assert.Equal(new[] { 0, 0 }, left);
    }

    [Fact]
    public async Task DeletingAProjectRemovesItsKeysRunsIterationsAndSamples()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var other = await TestDatabase.CreateProjectAsync();
        var run = await RunWithSamplesAsync(project);
        var otherRun = await RunWithSamplesAsync(other);
        await Owner.ExecuteAsync(
            "INSERT INTO project_api_keys (project_id, prefix, key_hash) SELECT id, 'ork_test', sha256(id::text::bytea) FROM project_config WHERE id IN (@project, @other)",
            new { project, other });

        await Owner.ExecuteAsync("DELETE FROM project_config WHERE id = @project", new { project });

        Assert.Equal(0, await Owner.QuerySingleAsync<long>(CountsSql, new { run }));
        Assert.Equal(0, await Owner.QuerySingleAsync<long>("SELECT count(*) FROM project_api_keys WHERE project_id = @project", new { project }));
        Assert.Equal(1 + 2 + 3, await Owner.QuerySingleAsync<long>(CountsSql, new { run = otherRun }));
        Assert.Equal(1, await Owner.QuerySingleAsync<long>("SELECT count(*) FROM project_api_keys WHERE project_id = @other", new { other }));
    }

    /// <summary>A run with iterations 0 and 1, two samples of iteration 0 and one of iteration 1.</summary>
    private static async Task<Guid> RunWithSamplesAsync(Guid project)
    {
        var run = await TestDatabase.CreateRunAsync(project);
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.5m);
        await Owner.InsertIterationAsync(run, 1, "minibatch", 0.6m);
        await Owner.InsertSampleAsync(run, 0, 0);
        await Owner.InsertSampleAsync(run, 0, 1);
        await Owner.InsertSampleAsync(run, 1, 0);
        return run;
    }
}
