using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>The stored generated columns: improvement, improvement_pct, total_tokens and the durations.</summary>
public sealed class GeneratedColumnTests
{
    // baseline, best, final → improvement (final once there is one, else best), improvement_pct.
    public static TheoryData<decimal?, decimal?, decimal?, decimal?, decimal?> Improvements => new()
    {
        { 0.40m, 0.55m, 0.60m, 0.20m, 50.00m },
        { 0.40m, 0.55m, null, 0.15m, 37.50m },
        { 0.50m, 0.45m, 0.40m, -0.10m, -20.00m },
        { 0.3333m, 0.5m, null, 0.1667m, 50.02m },
        { 0m, 0.50m, null, 0.50m, null },
        { null, 0.50m, 0.60m, null, null },
        { 0.40m, null, null, null, null },
    };

    [Theory]
    [MemberData(nameof(Improvements))]
    public async Task ImprovementComparesFinalOrElseBestScoreWithBaseline(
        decimal? baseline, decimal? best, decimal? final, decimal? improvement, decimal? improvementPct)
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());

        await Owner.ExecuteAsync(
            "UPDATE optimization_runs SET baseline_score = @baseline, best_score = @best, final_score = @final WHERE id = @run",
            new { run, baseline, best, final });

        var row = await Owner.ReadRunAsync(run);
        Assert.Equal((improvement, improvementPct), (row.Improvement, row.ImprovementPct));
    }

    [Fact]
    public async Task TotalTokensIsPromptPlusCompletionTokens()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());

        await Owner.ExecuteAsync("UPDATE optimization_runs SET prompt_tokens = 20480, completion_tokens = 2210 WHERE id = @run", new { run });
        Assert.Equal(22690, (await Owner.ReadRunAsync(run)).TotalTokens);

        await Owner.ExecuteAsync("UPDATE optimization_runs SET prompt_tokens = prompt_tokens + 10 WHERE id = @run", new { run });
        Assert.Equal(22700, (await Owner.ReadRunAsync(run)).TotalTokens);
    }

    [Fact]
    public async Task RunDurationIsMillisecondsFromStartToEndAndNullWhileRunning()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());

        await Owner.ExecuteAsync("UPDATE optimization_runs SET start_time = '2026-11-26T10:00:00Z' WHERE id = @run", new { run });
        Assert.Null((await Owner.ReadRunAsync(run)).DurationMs);

        await Owner.ExecuteAsync("UPDATE optimization_runs SET end_time = '2026-11-26T10:02:03.456Z' WHERE id = @run", new { run });
        Assert.Equal(123_456, (await Owner.ReadRunAsync(run)).DurationMs);
    }

    [Fact]
    public async Task IterationDurationIsMillisecondsFromStartToCompletionAndNullUntilCompleted()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
        await Owner.ExecuteAsync(
            """
            INSERT INTO optimization_iterations (run_id, project_id, iteration, started_at)
            SELECT id, project_id, 3, '2026-11-26T10:00:00Z' FROM optimization_runs WHERE id = @run
            """,
            new { run });
        const string DurationSql = "SELECT duration_ms FROM optimization_iterations WHERE run_id = @run AND iteration = 3";
        Assert.Null(await Owner.QuerySingleAsync<long?>(DurationSql, new { run }));

        await Owner.ExecuteAsync(
            "UPDATE optimization_iterations SET completed_at = '2026-11-26T10:00:41.5Z' WHERE run_id = @run AND iteration = 3", new { run });
        Assert.Equal(41_500, await Owner.QuerySingleAsync<long?>(DurationSql, new { run }));
    }
}
