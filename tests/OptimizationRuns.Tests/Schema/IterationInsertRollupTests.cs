using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// An INSERT of many iterations (a sample batch announcing its iterations, a bulk load) rolls each run up once for
/// the statement, with the same result as the iterations inserted one at a time; an update of a score updates its
/// run once.
/// </summary>
public sealed class IterationInsertRollupTests
{
    // The run's updates in this transaction. The view also counts a pooled backend's earlier transactions not yet
    // flushed to the statistics, so the tests take a difference.
    private const string RunUpdatesSql = "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = 'optimization_runs'::regclass";

    // Per run: (iteration, kind, score). Ties, an unscored baseline, minibatches above the best full evaluation,
    // iterations out of order.
    private static readonly (int Iteration, string Kind, decimal? Score)[][] Trials =
    [
        [(0, "baseline", 0.40m), (3, "minibatch", 0.90m), (1, "full", 0.60m), (2, "full", 0.60m), (4, "minibatch", null)],
        [(0, "baseline", null), (2, "minibatch", 0.70m), (1, "minibatch", 0.75m)],
        [(5, "full", 0.80m), (0, "baseline", 0.85m), (7, "full", 0.81m), (6, "minibatch", 0.50m)],
    ];

    [Fact]
    public async Task IterationsOfSeveralRunsInOneStatementRollUpAsWhenInsertedOneAtATime()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var oneAtATime = new List<Guid>();
        var together = new List<Guid>();
        foreach (var trials in Trials)
        {
            var run = await TestDatabase.CreateRunAsync(project);
            oneAtATime.Add(run);
            foreach (var (iteration, kind, score) in trials)
            {
                await Owner.InsertIterationAsync(run, iteration, kind, score);
            }

            together.Add(await TestDatabase.CreateRunAsync(project));
        }

        var rows = together.SelectMany((run, i) => Trials[i].Select(t => new { run, t.Iteration, t.Kind, t.Score })).ToList();
        await Owner.ExecuteAsync(
            """
            INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
            SELECT r.id, r.project_id, t.iteration, t.kind, t.score
            FROM unnest(@runs, @iterations, @kinds, @scores) AS t(run_id, iteration, kind, score)
            JOIN optimization_runs r ON r.id = t.run_id
            """,
            new
            {
                runs = rows.Select(r => r.run).ToArray(),
                iterations = rows.Select(r => r.Iteration).ToArray(),
                kinds = rows.Select(r => r.Kind).ToArray(),
                scores = rows.Select(r => r.Score).ToArray(),
            });

        for (var i = 0; i < Trials.Length; i++)
        {
            Assert.Equal(await RollupAsync(oneAtATime[i]), await RollupAsync(together[i]));
        }

        // What 0001's triggers gave for these (baseline, best, best iteration, best minibatch, completed, furthest).
        Assert.Equal((0.40m, 0.60m, (int?)1, 0.90m, 4, (int?)4), Summary(await Owner.ReadRunAsync(together[0])));
        Assert.Equal(((decimal?)null, (decimal?)null, (int?)null, 0.75m, 2, (int?)2), Summary(await Owner.ReadRunAsync(together[1])));
        Assert.Equal((0.85m, 0.85m, (int?)0, 0.50m, 4, (int?)7), Summary(await Owner.ReadRunAsync(together[2])));
        Assert.Equal([[1], [], [0]], await Task.WhenAll(together.Select(Owner.BestIterationsAsync)));
    }

    // With 0001's row triggers this insert updated the run 41 times: 40 by the roll-up (one per row), one by the best.
    [Fact]
    public async Task AnInsertOfManyIterationsUpdatesItsRunOnce()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
        await using var connection = await TestDatabase.OpenOwnerAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var before = await connection.ExecuteScalarAsync<long>(RunUpdatesSql, transaction: transaction);
        await connection.ExecuteAsync(
            """
            INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
            SELECT id, project_id, n, CASE WHEN n % 10 = 0 THEN 'full' ELSE 'minibatch' END, n / 100.0
            FROM optimization_runs, generate_series(1, 40) AS n WHERE id = @run
            """,
            new { run }, transaction);
        var runUpdates = await connection.ExecuteScalarAsync<long>(RunUpdatesSql, transaction: transaction) - before;
        await transaction.CommitAsync();

        Assert.Equal(1, runUpdates);
        var row = await Owner.ReadRunAsync(run);
        Assert.Equal((40, (int?)40, 0.40m), (row.CompletedIterations, row.BestIteration, row.BestScore));
    }

    // With 0001's row triggers an update that moved the best updated the run twice: once for the best, once for the
    // roll-up.
    [Fact]
    public async Task AnUpdateOfAScoreThatMovesTheBestUpdatesItsRunOnce()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
        await Owner.InsertIterationAsync(run, 0, "baseline", 0.40m);
        await Owner.InsertIterationAsync(run, 1, "full", 0.50m);
        await using var connection = await TestDatabase.OpenOwnerAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var before = await connection.ExecuteScalarAsync<long>(RunUpdatesSql, transaction: transaction);
        await connection.ExecuteAsync("UPDATE optimization_iterations SET score = 0.30 WHERE run_id = @run AND iteration = 1", new { run }, transaction);
        var runUpdates = await connection.ExecuteScalarAsync<long>(RunUpdatesSql, transaction: transaction) - before;
        await transaction.CommitAsync();

        Assert.Equal(1, runUpdates);
        var row = await Owner.ReadRunAsync(run);
        Assert.Equal((0.40m, (int?)0, 2), (row.BestScore, row.BestIteration, row.CompletedIterations));
        Assert.Equal([0], await Owner.BestIterationsAsync(run));
    }

    private static async Task<object> RollupAsync(Guid run) =>
        (Summary(await Owner.ReadRunAsync(run)), string.Join(',', await Owner.BestIterationsAsync(run)));

    private static (decimal?, decimal?, int?, decimal?, int, int?) Summary(RunRow row) =>
        (row.BaselineScore, row.BestScore, row.BestIteration, row.BestMinibatchScore, row.CompletedIterations, row.CurrentIteration);
}
