using Dapper;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Schema;

/// <summary>Statements run as the schema owner (the admin path, past RLS), each on a connection of its own.</summary>
internal static class Owner
{
    public static async Task<int> ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        return await connection.ExecuteAsync(sql, args);
    }

    public static async Task<T> QuerySingleAsync<T>(string sql, object? args = null)
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        return await connection.QuerySingleAsync<T>(sql, args);
    }

    public static async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        return (await connection.QueryAsync<T>(sql, args)).AsList();
    }

    /// <summary>Records an iteration of <paramref name="runId"/> in the run's own project.</summary>
    public static Task<int> InsertIterationAsync(Guid runId, int iteration, string kind = "minibatch", decimal? score = null) =>
        ExecuteAsync(
            """
            INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
            SELECT id, project_id, @iteration, @kind, @score FROM optimization_runs WHERE id = @runId
            """,
            new { runId, iteration, kind, score });

    /// <summary>Records an evaluated example of an existing iteration.</summary>
    public static Task<int> InsertSampleAsync(Guid runId, int iteration, int sampleIndex) =>
        ExecuteAsync(
            """
            INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, score, success)
            SELECT id, project_id, @iteration, @sampleIndex, 1, true FROM optimization_runs WHERE id = @runId
            """,
            new { runId, iteration, sampleIndex });

    public static Task<RunRow> ReadRunAsync(Guid runId) =>
        QuerySingleAsync<RunRow>("SELECT * FROM optimization_runs WHERE id = @runId", new { runId });

    /// <summary>The iterations of a run marked best, in order (there should be at most one).</summary>
    public static Task<IReadOnlyList<int>> BestIterationsAsync(Guid runId) =>
        QueryAsync<int>("SELECT iteration FROM optimization_iterations WHERE run_id = @runId AND is_best ORDER BY iteration", new { runId });
}

/// <summary>The columns of an optimization_runs row that the schema computes or maintains.</summary>
internal sealed class RunRow
{
    public string Status { get; init; } = "";
    public decimal? BaselineScore { get; init; }
    public decimal? BestScore { get; init; }
    public decimal? BestMinibatchScore { get; init; }
    public decimal? FinalScore { get; init; }
    public decimal? Improvement { get; init; }
    public decimal? ImprovementPct { get; init; }
    public int? TotalIterations { get; init; }
    public int CompletedIterations { get; init; }
    public int? CurrentIteration { get; init; }
    public int? BestIteration { get; init; }
    public long TotalTokens { get; init; }
    public DateTime? StartTime { get; init; }
    public DateTime? EndTime { get; init; }
    public long? DurationMs { get; init; }
}
