using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>refresh_run_analytics and project_run_analytics: the service refreshes the view and reads its own project's rows.</summary>
public sealed class AnalyticsFunctionTests
{
    [Fact]
    public async Task RefreshedAnalyticsAggregateThisProjectsRunsPerOptimizer()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var other = await TestDatabase.CreateProjectAsync();
        await RunAsync(project, "miprov2", "completed", 0.50m, 0.60m, 1000);
        await RunAsync(project, "miprov2", "completed", 0.50m, 0.80m, 3000);
        await RunAsync(project, "miprov2", "running", 0.50m, null, 500);
        await RunAsync(project, "gepa", "failed", null, null, 0);
        await RunAsync(other, "miprov2", "completed", 0.10m, 0.99m, 1);

        var rows = await Service.InProjectAsync(project, async (connection, transaction) =>
        {
            await connection.ExecuteAsync("SELECT refresh_run_analytics()", transaction: transaction);
            return (await connection.QueryAsync<AnalyticsRow>("SELECT * FROM project_run_analytics()", transaction: transaction)).AsList();
        });

        Assert.All(rows, row => Assert.Equal(project, row.ProjectId));
        Assert.Equal(new[] { "gepa", "miprov2" }, rows.Select(row => row.OptimizerType));
        var gepa = rows[0];
        Assert.Equal((1L, 1L, 0L), (gepa.TotalRuns, gepa.FailedRuns, gepa.CompletedRuns));
        var mipro = rows[1];
        Assert.Equal((3L, 2L, 1L), (mipro.TotalRuns, mipro.CompletedRuns, mipro.RunningRuns));
        Assert.Equal(((decimal?)0.70m, (decimal?)0.80m, (decimal?)0.20m), (mipro.AvgFinalScore, mipro.MaxFinalScore, mipro.AvgImprovement));
        Assert.Equal(4500L, mipro.TotalTokens);
    }

    [Fact]
    public async Task AnalyticsWithoutAProjectAreEmpty()
    {
        await RunAsync(await TestDatabase.CreateProjectAsync(), "copro", "completed", 0.5m, 0.6m, 10);

        var count = await Service.InProjectAsync(null, async (connection, transaction) =>
        {
            await connection.ExecuteAsync("SELECT refresh_run_analytics()", transaction: transaction);
            return await connection.QuerySingleAsync<long>("SELECT count(*) FROM project_run_analytics()", transaction: transaction);
        });

        Assert.Equal(0, count);
    }

    private static async Task RunAsync(Guid project, string optimizerType, string status, decimal? baseline, decimal? final, long promptTokens)
    {
        var run = await TestDatabase.CreateRunAsync(project, optimizerType);
        await Owner.ExecuteAsync(
            "UPDATE optimization_runs SET status = @status, baseline_score = @baseline, final_score = @final, prompt_tokens = @promptTokens WHERE id = @run",
            new { run, status, baseline, final, promptTokens });
    }

    private sealed class AnalyticsRow
    {
        public Guid ProjectId { get; init; }
        public string OptimizerType { get; init; } = "";
        public long TotalRuns { get; init; }
        public long RunningRuns { get; init; }
        public long CompletedRuns { get; init; }
        public long FailedRuns { get; init; }
        public decimal? AvgFinalScore { get; init; }
        public decimal? MaxFinalScore { get; init; }
        public decimal? AvgImprovement { get; init; }
        public long TotalTokens { get; init; }
    }
}
