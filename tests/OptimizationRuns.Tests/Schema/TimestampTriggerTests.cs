using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>The triggers that keep updated_at current and a run's start and end times in step with its status.</summary>
public sealed class TimestampTriggerTests
{
    // table, the row's key (@project, @run), and an update that touches no timestamp.
    public static TheoryData<string, string, string> Tables => new()
    {
        { "project_config", "id = @project", "name = name || '!'" },
        { "optimization_runs", "id = @run", "description = 'tuned'" },
        { "optimization_iterations", "run_id = @run AND iteration = 0", "metadata = '{\"note\": 1}'" },
    };

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task UpdatedAtAdvancesOnUpdateAndCreatedAtStays(string table, string key, string change)
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        await Owner.InsertIterationAsync(run, 0);
        var read = $"SELECT created_at, updated_at FROM {table} WHERE {key}";
        var before = await Owner.QuerySingleAsync<(DateTime CreatedAt, DateTime UpdatedAt)>(read, new { project, run });

        Assert.Equal(1, await Owner.ExecuteAsync($"UPDATE {table} SET {change} WHERE {key}", new { project, run }));

        var after = await Owner.QuerySingleAsync<(DateTime CreatedAt, DateTime UpdatedAt)>(read, new { project, run });
        Assert.True(after.UpdatedAt > before.UpdatedAt, $"{table}: updated_at {before.UpdatedAt:O} → {after.UpdatedAt:O}");
        Assert.Equal(before.CreatedAt, after.CreatedAt);
    }

    [Fact]
    public async Task RunningSetsStartTimeAndLeavesEndTimeEmpty()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
        Assert.Null((await Owner.ReadRunAsync(run)).StartTime);
        var before = await ClockAsync();

        await Owner.ExecuteAsync("UPDATE optimization_runs SET status = 'running' WHERE id = @run", new { run });

        var row = await Owner.ReadRunAsync(run);
        Assert.InRange(row.StartTime!.Value, before, await ClockAsync());
        Assert.Null(row.EndTime);
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("failed")]
    [InlineData("cancelled")]
    public async Task EndingARunSetsEndTimeAndKeepsStartTime(string status)
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
        await Owner.ExecuteAsync("UPDATE optimization_runs SET status = 'running' WHERE id = @run", new { run });
        var started = (await Owner.ReadRunAsync(run)).StartTime;
        var before = await ClockAsync();

        await Owner.ExecuteAsync("UPDATE optimization_runs SET status = @status WHERE id = @run", new { run, status });

        var row = await Owner.ReadRunAsync(run);
        Assert.Equal(started, row.StartTime);
        Assert.InRange(row.EndTime!.Value, before, await ClockAsync());
        Assert.True(row.DurationMs >= 0);
    }

    [Fact]
    public async Task StalledRunThatResumesKeepsItsFirstStartTime()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());
        await Owner.ExecuteAsync("UPDATE optimization_runs SET status = 'running' WHERE id = @run", new { run });
        var started = (await Owner.ReadRunAsync(run)).StartTime;

        await Owner.ExecuteAsync("UPDATE optimization_runs SET status = 'stalled' WHERE id = @run", new { run });
        await Owner.ExecuteAsync("UPDATE optimization_runs SET status = 'running' WHERE id = @run", new { run });

        var row = await Owner.ReadRunAsync(run);
        Assert.Equal(("running", started), (row.Status, row.StartTime));
        Assert.Null(row.EndTime);
    }

    [Fact]
    public async Task TimesGivenByTheWriterAreKept()
    {
        var run = await TestDatabase.CreateRunAsync(await TestDatabase.CreateProjectAsync());

        await Owner.ExecuteAsync(
            """
            UPDATE optimization_runs SET status = 'completed',
                start_time = '2026-11-26T10:00:00Z', end_time = '2026-11-26T11:00:00Z'
            WHERE id = @run
            """,
            new { run });

        var row = await Owner.ReadRunAsync(run);
        Assert.Equal(new DateTime(2026, 11, 26, 11, 0, 0, DateTimeKind.Utc), row.EndTime);
        Assert.Equal(3_600_000, row.DurationMs);
    }

    private static Task<DateTime> ClockAsync() => Owner.QuerySingleAsync<DateTime>("SELECT clock_timestamp()");
}
