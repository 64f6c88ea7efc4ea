using Dapper;
using Npgsql;

namespace OptimizationRuns.Tests.Operations;

/// <summary>
/// A project's runs, iterations and samples written straight into a migrated database as its owner (fast for the
/// sizes backup and partitioning tests need), and the counts a user would check, read as the service role under RLS.
/// </summary>
public static class TrackedData
{
    /// <summary>What a project holds, as the service role sees it.</summary>
    public sealed record Counts(long Runs, long Iterations, long Samples, decimal ScoreSum);

    /// <summary>Creates a project with <paramref name="runs"/> completed runs of <paramref name="iterations"/> iterations of <paramref name="samples"/> samples each.</summary>
    public static async Task<Guid> AddProjectAsync(string ownerConnectionString, int runs, int iterations, int samples, DateTimeOffset? createdAt = null)
    {
        var projectId = Guid.NewGuid();
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var args = new { projectId, runs, iterations, samples, createdAt = createdAt ?? DateTimeOffset.UtcNow };
        await connection.ExecuteAsync("INSERT INTO project_config (id, name) VALUES (@projectId, 'tracked ' || @projectId)", args, transaction);
        await connection.ExecuteAsync("""
            INSERT INTO optimization_runs (project_id, run_name, optimizer_type, status, created_at)
            SELECT @projectId, 'run ' || r, 'miprov2', 'completed', @createdAt FROM generate_series(1, @runs) r
            """, args, transaction);
        await connection.ExecuteAsync("""
            INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
            SELECT r.id, r.project_id, i, CASE WHEN i = 1 THEN 'baseline' ELSE 'minibatch' END, (i % 10) / 10.0
            FROM optimization_runs r, generate_series(1, @iterations) i WHERE r.project_id = @projectId
            """, args, transaction);
        await connection.ExecuteAsync("""
            INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, score, success, created_at)
            SELECT it.run_id, it.project_id, it.iteration, s, 'ex-' || s, jsonb_build_object('question', 'q' || s),
                   (s % 5) / 4.0, s % 7 <> 0, @createdAt
            FROM optimization_iterations it, generate_series(0, @samples - 1) s WHERE it.project_id = @projectId
            """, args, transaction);
        await transaction.CommitAsync();
        return projectId;
    }

    /// <summary>The project's runs, iterations, samples and the sum of its sample scores, as the service role.</summary>
    public static async Task<Counts> CountAsync(string serviceConnectionString, Guid projectId)
    {
        await using var connection = new NpgsqlConnection(serviceConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SELECT set_config('app.project_id', @p, true)", new { p = projectId.ToString() }, transaction);
        return await connection.QuerySingleAsync<Counts>("""
            SELECT (SELECT count(*) FROM optimization_runs) AS runs,
                   (SELECT count(*) FROM optimization_iterations) AS iterations,
                   (SELECT count(*) FROM optimization_samples) AS samples,
                   (SELECT COALESCE(sum(score), 0) FROM optimization_samples) AS score_sum
            """, transaction: transaction);
    }
}
