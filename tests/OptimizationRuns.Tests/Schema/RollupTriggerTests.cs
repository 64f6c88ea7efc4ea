using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>The roll-up of a run's statistics from its iterations.</summary>
public sealed class RollupTriggerTests
{
    [Fact]
    public async Task CompletedIterationsCountsScoredTrialsAndCurrentIterationTheFurthest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await Owner.InsertIterationAsync(run, 1, "minibatch", 0.50m);
        await Owner.InsertIterationAsync(run, 2, "minibatch");

        var row = await Owner.ReadRunAsync(run);
        Assert.Equal((2, (int?)2), (row.CompletedIterations, row.CurrentIteration));

        await Owner.ExecuteAsync("UPDATE optimization_iterations SET score = 0.55 WHERE run_id = @run AND iteration = 2", new { run });
        Assert.Equal(3, (await Owner.ReadRunAsync(run)).CompletedIterations);
    }

    [Fact]
    public async Task CurrentIterationNeverMovesBack()
    {
        var run = await NewRunAsync();
        await Owner.ExecuteAsync("UPDATE optimization_runs SET current_iteration = 10 WHERE id = @run", new { run });

        await Owner.InsertIterationAsync(run, 3, "minibatch", 0.50m);

        Assert.Equal(10, (await Owner.ReadRunAsync(run)).CurrentIteration);
    }

    [Fact]
    public async Task BestMinibatchScoreIsTheHighestMinibatchScoreOnly()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.90m);
        await Owner.InsertIterationAsync(run, 1, "minibatch", 0.61m);
        await Owner.InsertIterationAsync(run, 2, "minibatch", 0.74m);
        await Owner.InsertIterationAsync(run, 3, "minibatch", 0.52m);
        await Owner.InsertIterationAsync(run, 5, "full", 0.95m);

        Assert.Equal(0.74m, (await Owner.ReadRunAsync(run)).BestMinibatchScore);
    }

    [Fact]
    public async Task BaselineScoreComesFromTheBaselineIteration()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline");
        Assert.Null((await Owner.ReadRunAsync(run)).BaselineScore);

        await Owner.ExecuteAsync("UPDATE optimization_iterations SET score = 0.41 WHERE run_id = @run AND iteration = 0", new { run });
        await Owner.InsertIterationAsync(run, 5, "full", 0.62m);

        var row = await Owner.ReadRunAsync(run);
        Assert.Equal(0.41m, row.BaselineScore);
        Assert.Equal(0.21m, row.Improvement);
    }

    [Fact]
    public async Task BaselineScoreGivenByTheClientIsKept()
    {
        var run = await NewRunAsync();
        await Owner.ExecuteAsync("UPDATE optimization_runs SET baseline_score = 0.45 WHERE id = @run", new { run });

        await Owner.InsertIterationAsync(run, 0, "baseline", 0.41m);

        Assert.Equal(0.45m, (await Owner.ReadRunAsync(run)).BaselineScore);
    }

    private static async Task<Guid> NewRunAsync() => await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
}
