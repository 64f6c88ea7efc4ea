using Dapper;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Runs;

/// <summary>Builds runs and rows for grain tests, and reads back what the database holds.</summary>
public static class RunScenario
{
    public const string MiproConfig = """{"optimizer":"miprov2","metric":"accuracy"}""";

    public static IRunGrain Grain(IClusterClient client, Guid projectId, Guid runId) =>
        client.GetGrain<IRunGrain>(runId, projectId.ToString());

    /// <summary>A new project with a new running run.</summary>
    public static async Task<(Guid ProjectId, Guid RunId, IRunGrain Grain)> StartRunAsync(IClusterClient client)
    {
        var projectId = await TestDatabase.CreateProjectAsync();
        var runId = Guid.NewGuid();
        var grain = Grain(client, projectId, runId);
        await grain.CreateAsync(new CreateRun("test run", OptimizerType.Miprov2, MiproConfig));
        await grain.TransitionAsync(new RunTransition(RunStatus.Running));
        return (projectId, runId, grain);
    }

    public static SampleRecord Sample(int iteration, int index, bool success = true, double latencyMs = 100) => new(
        iteration, index, ExampleId: $"ex-{index}", InputsJson: """{"question":"What is 2+2?"}""",
        ExpectedJson: """{"answer":"4"}""", PredictionJson: """{"answer":"4"}""", Score: success ? 1m : 0m,
        Success: success, Error: success ? null : "wrong answer", LatencyMs: latencyMs, PromptTokens: 100,
        CompletionTokens: 10, CostUsd: 0.0001m);

    /// <summary>How many sample rows the run has, whatever its project (read as the owner).</summary>
    public static async Task<long> ReadStoredSampleCountAsync(Guid runId)
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_samples WHERE run_id = @runId", new { runId });
    }

    /// <summary>The run's row and the real counts of its tables, read as the owner.</summary>
    public static async Task<StoredRun> ReadStoredAsync(Guid runId)
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        return await connection.QuerySingleAsync<StoredRun>("""
            SELECT r.status, r.samples_evaluated, r.samples_successful, r.samples_failed, r.prompt_tokens,
                   r.completion_tokens, r.cost_usd, r.best_score, r.best_iteration, r.completed_iterations,
                   (SELECT count(*) FROM optimization_samples s WHERE s.run_id = r.id) AS sample_rows,
                   (SELECT count(*) FILTER (WHERE success) FROM optimization_samples s WHERE s.run_id = r.id) AS successful_rows,
                   (SELECT COALESCE(sum(prompt_tokens), 0) FROM optimization_samples s WHERE s.run_id = r.id) AS prompt_token_sum,
                   (SELECT COALESCE(sum(cost_usd), 0) FROM optimization_samples s WHERE s.run_id = r.id) AS cost_sum,
                   (SELECT count(*) FROM optimization_iterations i WHERE i.run_id = r.id) AS iteration_rows
            FROM optimization_runs r WHERE r.id = @runId
            """, new { runId });
    }
}

public sealed class StoredRun
{
    public string Status { get; set; } = "";
    public long SamplesEvaluated { get; set; }
    public long SamplesSuccessful { get; set; }
    public long SamplesFailed { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public decimal CostUsd { get; set; }
    public decimal? BestScore { get; set; }
    public int? BestIteration { get; set; }
    public int CompletedIterations { get; set; }
    public long SampleRows { get; set; }
    public long SuccessfulRows { get; set; }
    public long PromptTokenSum { get; set; }
    public decimal CostSum { get; set; }
    public long IterationRows { get; set; }
}
