using System.Text.Json;
using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>The run helper functions as the service calls them: run_summary, top_runs, update_run_progress.</summary>
public sealed class RunFunctionTests
{
    [Fact]
    public async Task RunSummaryReportsScoresIterationsAndSuccessRate()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await Owner.InsertIterationAsync(run, 1, "minibatch", 0.80m);
        await Owner.InsertIterationAsync(run, 2, "minibatch", 0.55m);
        await Owner.InsertIterationAsync(run, 3, "full", 0.60m);
        await Owner.ExecuteAsync(
            "UPDATE optimization_runs SET samples_evaluated = 40, samples_successful = 30, samples_failed = 10, prompt_tokens = 100, completion_tokens = 20 WHERE id = @run",
            new { run });

        var json = await Service.InProjectAsync(project, (connection, transaction) =>
            connection.QuerySingleAsync<string>("SELECT run_summary(@run)::text", new { run }, transaction));

        var summary = JsonDocument.Parse(json).RootElement;
        Assert.Equal(run, summary.GetProperty("runId").GetGuid());
        Assert.Equal(0.60m, summary.GetProperty("bestScore").GetDecimal());
        Assert.Equal(3, summary.GetProperty("bestIteration").GetInt32());
        Assert.Equal(0.80m, summary.GetProperty("bestMinibatchScore").GetDecimal());
        Assert.Equal(0.20m, summary.GetProperty("improvement").GetDecimal());
        Assert.Equal(4, summary.GetProperty("completedIterations").GetInt32());
        var kinds = summary.GetProperty("iterationsByKind");
        Assert.Equal((1, 2, 1), (kinds.GetProperty("baseline").GetInt32(), kinds.GetProperty("minibatch").GetInt32(), kinds.GetProperty("full").GetInt32()));
        Assert.Equal(0.75m, summary.GetProperty("successRate").GetDecimal());
        Assert.Equal(120, summary.GetProperty("totalTokens").GetInt64());
    }

    [Fact]
    public async Task RunSummaryOfAnotherProjectsRunIsNull()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
        var caller = await TestDatabase.CreateProjectAsync();

        var json = await Service.InProjectAsync(caller, (connection, transaction) =>
            connection.QuerySingleAsync<string?>("SELECT run_summary(@run)::text", new { run }, transaction));

        Assert.Null(json);
    }

    [Fact]
    public async Task TopRunsRanksTheProjectsCompletedRunsByFinalScore()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var other = await TestDatabase.CreateProjectAsync();
        var gepa = await RunAsync(project, "gepa", "completed", 0.90m);
        var mipro = await RunAsync(project, "miprov2", "completed", 0.80m);
        var mipro2 = await RunAsync(project, "miprov2", "completed", 0.70m);
        await RunAsync(project, "miprov2", "completed", null);
        await RunAsync(project, "miprov2", "failed", 0.95m);
        await RunAsync(project, "miprov2", "running", 0.97m);
        await RunAsync(other, "miprov2", "completed", 0.99m);

        var (all, miproOnly, firstTwo) = await Service.InProjectAsync(project, async (connection, transaction) => (
            (await connection.QueryAsync<Guid>("SELECT id FROM top_runs()", transaction: transaction)).AsList(),
            (await connection.QueryAsync<Guid>("SELECT id FROM top_runs('miprov2')", transaction: transaction)).AsList(),
            (await connection.QueryAsync<Guid>("SELECT id FROM top_runs(NULL, 2)", transaction: transaction)).AsList()));

        Assert.Equal(new[] { gepa, mipro, mipro2 }, all);
        Assert.Equal(new[] { mipro, mipro2 }, miproOnly);
        Assert.Equal(new[] { gepa, mipro }, firstTwo);
    }

    [Fact]
    public async Task ProgressMovesCurrentIterationForwardOnlyAndStartsAPendingRun()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);

        Assert.True(await ProgressAsync(project, run, 3, 18));
        var started = await Owner.ReadRunAsync(run);
        Assert.Equal(("running", (int?)3, (int?)18), (started.Status, started.CurrentIteration, started.TotalIterations));
        Assert.NotNull(started.StartTime);

        Assert.True(await ProgressAsync(project, run, 2, null));
        var row = await Owner.ReadRunAsync(run);
        Assert.Equal(((int?)3, (int?)18, started.StartTime), (row.CurrentIteration, row.TotalIterations, row.StartTime));
    }

    [Fact]
    public async Task ProgressResumesAStalledRun()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await RunAsync(project, "miprov2", "stalled", null);

        Assert.True(await ProgressAsync(project, run, 7, null));

        Assert.Equal(("running", (int?)7), await StatusAndCurrentAsync(run));
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("failed")]
    [InlineData("cancelled")]
    public async Task ProgressOfAnEndedRunChangesNothing(string status)
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await RunAsync(project, "miprov2", status, null);

        Assert.False(await ProgressAsync(project, run, 9, 20));

        Assert.Equal((status, (int?)null), await StatusAndCurrentAsync(run));
    }

    [Fact]
    public async Task ProgressOfAnotherProjectsRunChangesNothing()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());

        Assert.False(await ProgressAsync(await TestDatabase.CreateProjectAsync(), run, 4, null));

        Assert.Equal(("pending", (int?)null), await StatusAndCurrentAsync(run));
    }

    private static async Task<Guid> RunAsync(Guid project, string optimizerType, string status, decimal? finalScore)
    {
        var run = await TestDatabase.CreateRunAsync(project, optimizerType);
        await Owner.ExecuteAsync("UPDATE optimization_runs SET status = @status, final_score = @finalScore WHERE id = @run",
            new { run, status, finalScore });
        return run;
    }

    private static Task<bool> ProgressAsync(Guid project, Guid run, int current, int? total) =>
        Service.InProjectAsync(project, (connection, transaction) =>
            connection.QuerySingleAsync<bool>("SELECT update_run_progress(@run, @current, @total)", new { run, current, total }, transaction));

    private static async Task<(string, int?)> StatusAndCurrentAsync(Guid run)
    {
        var row = await Owner.ReadRunAsync(run);
        return (row.Status, row.CurrentIteration);
    }
}
