using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// Several writers record iterations of one run at once (threads, workers, a grain moving between silos):
/// the roll-up triggers serialise them on the run without deadlocking against the foreign-key checks.
/// </summary>
public sealed class ConcurrentIterationTests
{
    private const string InsertSql = """
        INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
        VALUES (@run, @project, @iteration, 'full', @score)
        """;

    [Fact]
    public async Task ConcurrentWritersOfOneRunAllSucceedAndAgreeOnTheBest()
    {
        const int Writers = 8;
        const int PerWriter = 15;
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                var iteration = writer * PerWriter + i;
                var score = iteration % 97 / 100m;
                await Service.InProjectAsync(project, (connection, transaction) =>
                    connection.ExecuteAsync(InsertSql, new { run, project, iteration, score }, transaction));
            }
        })));

        var row = await Owner.ReadRunAsync(run);
        Assert.Equal((Writers * PerWriter, (decimal?)0.96m, (int?)96), (row.CompletedIterations, row.BestScore, row.BestIteration));
        Assert.Equal(new[] { 96 }, await Owner.BestIterationsAsync(run));
    }

    [Fact]
    public async Task IterationInsertIsNotBlockedByAForeignKeyCheckInFlightOnItsRun()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);

        // A concurrent iteration insert holds a KEY SHARE lock on the run (its foreign-key check)
        // until it commits; the triggers must not need a lock that conflicts with it.
        await using var other = await TestDatabase.OpenOwnerAsync();
        await using var otherTransaction = await other.BeginTransactionAsync();
        await other.ExecuteAsync("SELECT 1 FROM optimization_runs WHERE id = @run FOR KEY SHARE", new { run }, otherTransaction);

        await using var connection = await TestDatabase.OpenOwnerAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SET LOCAL lock_timeout = '3s'", transaction: transaction);
        await connection.ExecuteAsync(InsertSql, new { run, project, iteration = 5, score = 0.7m }, transaction);
        await transaction.CommitAsync();

        Assert.Equal(5, (await Owner.ReadRunAsync(run)).BestIteration);
    }
}
