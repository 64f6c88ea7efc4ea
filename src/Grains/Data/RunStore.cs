using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The run row's life outside the group commit: insert, load, delete, and what the grain loads to judge retries.
/// Every change in between goes through <see cref="IngestStore.CommitAsync"/>. Every statement runs under the run's project.
/// </summary>
public sealed class RunStore(NpgsqlDataSource dataSource)
{
    private const string SelectSql = $"SELECT {RowMapping.RunColumns} FROM optimization_runs WHERE id = @RunId";

    private const string InsertSql = $$"""
        INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, config, metadata, tags, description,
            program_name, dataset_name, metric_name, task_model, prompt_model, baseline_score, total_iterations, created_by)
        VALUES (@RunId, @ProjectId, @RunName, @OptimizerType, @Config::jsonb, COALESCE(@Metadata::jsonb, '{}'),
            COALESCE(@Tags::text[], '{}'), @Description, @ProgramName, @DatasetName, @MetricName, @TaskModel, @PromptModel,
            @BaselineScore, @TotalIterations, @CreatedBy)
        ON CONFLICT (id) DO NOTHING
        RETURNING {{RowMapping.RunColumns}}
        """;

    // Iterations and samples go with it (ON DELETE CASCADE).
    private const string DeleteSql = "DELETE FROM optimization_runs WHERE id = @RunId";

    private const string IterationsSql = "SELECT iteration, kind, score FROM optimization_iterations WHERE run_id = @RunId";

    private const string SampleStatsSql = """
        SELECT iteration, sample_index, success, prompt_tokens, completion_tokens, cost_usd, latency_ms
        FROM optimization_samples WHERE run_id = @RunId
        """;

    /// <summary>The run, or null when it does not exist in <paramref name="projectId"/>.</summary>
    public async Task<RunSnapshot?> LoadAsync(Guid projectId, Guid runId, CancellationToken cancellationToken) =>
        await ProjectReader.RunAsync(dataSource, projectId, reader =>
            reader.QuerySingleOrDefaultAsync<RunSnapshot>(SelectSql, new { RunId = runId }), cancellationToken);

    /// <summary>
    /// Inserts the run; null when the id is taken (by this project's run, which the caller then loads). Run ids are
    /// scoped to their project (<see cref="RunIds"/>), so another project's run cannot take it.
    /// </summary>
    public async Task<RunSnapshot?> InsertAsync(Guid projectId, Guid runId, CreateRun command, CancellationToken cancellationToken) =>
        await ProjectTransaction.RunAsync(dataSource, projectId, scope => scope.Connection.QuerySingleOrDefaultAsync<RunSnapshot>(scope.Command(InsertSql, new
        {
            RunId = runId,
            ProjectId = projectId,
            command.RunName,
            OptimizerType = command.OptimizerType.ToName(),
            Config = command.ConfigJson,
            Metadata = command.MetadataJson,
            Tags = command.Tags?.ToArray(),
            command.Description,
            command.ProgramName,
            command.DatasetName,
            command.MetricName,
            command.TaskModel,
            command.PromptModel,
            command.BaselineScore,
            command.TotalIterations,
            command.CreatedBy,
        }, cancellationToken)), cancellationToken);

    /// <summary>Deletes the run, its iterations and its samples.</summary>
    public async Task DeleteAsync(Guid projectId, Guid runId, CancellationToken cancellationToken) =>
        await ProjectTransaction.RunAsync(dataSource, projectId, scope =>
            scope.Connection.ExecuteAsync(scope.Command(DeleteSql, new { RunId = runId }, cancellationToken)), cancellationToken);

    /// <summary>What the grain needs to judge retries: the committed iterations and sample keys with their numbers.</summary>
    public async Task<(IReadOnlyList<CommittedIteration> Iterations, IReadOnlyList<CommittedSample> Samples)> LoadIngestStateAsync(
        Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        await using var results = await reader.ReadMultipleAsync(IterationsSql + ";\n" + SampleStatsSql, new { RunId = runId });
        var iterations = (await results.ReadAsync<CommittedIteration>()).AsList();
        return (iterations, (await results.ReadAsync<CommittedSample>()).AsList());
    }
}

/// <summary>A committed iteration as the run grain keeps it to judge retries.</summary>
public sealed record CommittedIteration
{
    public int Iteration { get; init; }
    public IterationKind Kind { get; init; }
    public decimal? Score { get; init; }
}

/// <summary>A committed sample's key and the numbers the run's statistics are made of.</summary>
public sealed class CommittedSample
{
    public int Iteration { get; init; }
    public int SampleIndex { get; init; }
    public bool Success { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public decimal CostUsd { get; init; }
    public double? LatencyMs { get; init; }
}
