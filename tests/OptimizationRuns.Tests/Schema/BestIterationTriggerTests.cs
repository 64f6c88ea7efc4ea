using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// Best-iteration marking: only baseline and full evaluations can be best (a minibatch score is a noisy
/// estimate); the run's best_score and best_iteration follow; ties go to the earlier iteration.
/// </summary>
public sealed class BestIterationTriggerTests
{
    [Fact]
    public async Task MinibatchWithAHigherScoreIsNeverBest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await Owner.InsertIterationAsync(run, 1, "minibatch", 0.90m);
        await Owner.InsertIterationAsync(run, 5, "full", 0.60m);
        await Owner.InsertIterationAsync(run, 6, "minibatch", 0.95m);

        await AssertBestAsync(run, 5, 0.60m);
        Assert.Equal(0.95m, (await Owner.ReadRunAsync(run)).BestMinibatchScore);
    }

    [Fact]
    public async Task RunWithOnlyMinibatchesHasNoBest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 1, "minibatch", 0.70m);
        await Owner.InsertIterationAsync(run, 2, "minibatch", 0.80m);

        var row = await Owner.ReadRunAsync(run);
        Assert.Null(row.BestScore);
        Assert.Null(row.BestIteration);
        Assert.Empty(await Owner.BestIterationsAsync(run));
    }

    [Fact]
    public async Task BaselineIsBestUntilAFullEvaluationBeatsIt()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await AssertBestAsync(run, 0, 0.40m);

        await Owner.InsertIterationAsync(run, 5, "full", 0.55m);
        await AssertBestAsync(run, 5, 0.55m);
    }

    [Fact]
    public async Task IterationsArrivingOutOfOrderGiveTheSameBest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 10, "full", 0.70m);
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await Owner.InsertIterationAsync(run, 5, "full", 0.65m);
        await Owner.InsertIterationAsync(run, 3, "minibatch", 0.99m);

        await AssertBestAsync(run, 10, 0.70m);
    }

    [Fact]
    public async Task LaterLowerFullScoreDoesNotReplaceTheBest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 5, "full", 0.70m);
        await Owner.InsertIterationAsync(run, 10, "full", 0.60m);

        await AssertBestAsync(run, 5, 0.70m);
    }

    [Fact]
    public async Task LoweringTheBestScoreMovesBestToTheNextBest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 5, "full", 0.70m);
        await Owner.InsertIterationAsync(run, 10, "full", 0.60m);

        await Owner.ExecuteAsync("UPDATE optimization_iterations SET score = 0.50 WHERE run_id = @run AND iteration = 5", new { run });

        await AssertBestAsync(run, 10, 0.60m);
    }

    [Fact]
    public async Task IterationCompletedWithAScoreLaterCanBecomeBest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await Owner.InsertIterationAsync(run, 5, "full");
        await AssertBestAsync(run, 0, 0.40m);

        await Owner.ExecuteAsync("UPDATE optimization_iterations SET score = 0.62 WHERE run_id = @run AND iteration = 5", new { run });

        await AssertBestAsync(run, 5, 0.62m);
    }

    [Fact]
    public async Task MinibatchReclassifiedAsFullCompetesForBest()
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await Owner.InsertIterationAsync(run, 4, "minibatch", 0.80m);

        await Owner.ExecuteAsync("UPDATE optimization_iterations SET kind = 'full' WHERE run_id = @run AND iteration = 4", new { run });

        await AssertBestAsync(run, 4, 0.80m);
    }

    [Theory]
    [InlineData(new[] { 5, 10 })]
    [InlineData(new[] { 10, 5 })]
    public async Task TiesGoToTheEarlierIteration(int[] insertionOrder)
    {
        var run = await NewRunAsync();
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        foreach (var iteration in insertionOrder)
        {
            await Owner.InsertIterationAsync(run, iteration, "full", 0.70m);
        }

        await AssertBestAsync(run, 5, 0.70m);
    }

    private static async Task<Guid> NewRunAsync() => await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());

    private static async Task AssertBestAsync(Guid run, int iteration, decimal score)
    {
        var row = await Owner.ReadRunAsync(run);
        Assert.Equal(((decimal?)score, (int?)iteration), (row.BestScore, row.BestIteration));
        Assert.Equal(new[] { iteration }, await Owner.BestIterationsAsync(run));
    }
}
