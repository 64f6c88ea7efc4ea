using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>The runs table: create, read, status changes. Every statement runs under the run's project.</summary>
public sealed class RunStore(NpgsqlDataSource dataSource)
{
    private const string SelectSql = "SELECT * FROM optimization_runs WHERE id = @RunId";

    private const string InsertSql = """
        INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, config, metadata, tags, description,
            program_name, dataset_name, metric_name, task_model, prompt_model, baseline_score, total_iterations, created_by)
        VALUES (@RunId, @ProjectId, @RunName, @OptimizerType, @Config::jsonb, COALESCE(@Metadata::jsonb, '{}'),
            COALESCE(@Tags::text[], '{}'), @Description, @ProgramName, @DatasetName, @MetricName, @TaskModel, @PromptModel,
            @BaselineScore, @TotalIterations, @CreatedBy)
        ON CONFLICT (id) DO NOTHING
        RETURNING *
        """;

    private const string TransitionSql = """
        UPDATE optimization_runs
        SET status = @Status,
            final_score = COALESCE(@FinalScore, final_score),
            optimized_program = COALESCE(@OptimizedProgram::jsonb, optimized_program),
            error_message = COALESCE(@ErrorMessage, error_message),
            error_details = COALESCE(@ErrorDetails::jsonb, error_details)
        WHERE id = @RunId
        RETURNING *
        """;

    // update_run_progress (migration 0001) moves the trial forward, never back, and wakes the run.
    private const string ProgressSql = """
        SELECT update_run_progress(@RunId, @CurrentIteration, @TotalIterations);
        SELECT * FROM optimization_runs WHERE id = @RunId;
        """;

    private const string UpdateSql = """
        UPDATE optimization_runs SET
            run_name = COALESCE(@RunName, run_name),
            description = COALESCE(@Description, description),
            tags = COALESCE(@Tags::text[], tags),
            metadata = COALESCE(@Metadata::jsonb, metadata),
            program_name = COALESCE(@ProgramName, program_name),
            dataset_name = COALESCE(@DatasetName, dataset_name),
            metric_name = COALESCE(@MetricName, metric_name),
            task_model = COALESCE(@TaskModel, task_model),
            prompt_model = COALESCE(@PromptModel, prompt_model),
            total_iterations = COALESCE(@TotalIterations, total_iterations),
            baseline_score = COALESCE(@BaselineScore, baseline_score)
        WHERE id = @RunId
        RETURNING *
        """;

    // Iterations and samples go with it (ON DELETE CASCADE).
    private const string DeleteSql = "DELETE FROM optimization_runs WHERE id = @RunId";

    private const string IterationsSql = "SELECT iteration, kind, score FROM optimization_iterations WHERE run_id = @RunId";

    private const string SampleStatsSql = """
        SELECT iteration, sample_index, success, prompt_tokens, completion_tokens, cost_usd, latency_ms
        FROM optimization_samples WHERE run_id = @RunId
        """;

    /// <summary>The run, or null when it does not exist in <paramref name="projectId"/>.</summary>
    public async Task<RunRow?> LoadAsync(Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        return await ProjectTransaction.RunAsync(dataSource, projectId, scope =>
            scope.Connection.QuerySingleOrDefaultAsync<RunRow>(scope.Command(SelectSql, new { RunId = runId }, cancellationToken)),
            cancellationToken);
    }

    /// <summary>
    /// Inserts the run; null when the id is taken (by this project's run, which the caller then loads,
    /// or by another project's, which it must not learn about).
    /// </summary>
    public async Task<RunRow?> InsertAsync(Guid projectId, Guid runId, CreateRun command, CancellationToken cancellationToken)
    {
        return await ProjectTransaction.RunAsync(dataSource, projectId, scope => scope.Connection.QuerySingleOrDefaultAsync<RunRow>(scope.Command(InsertSql, new
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
    }

    /// <summary>Writes a status change with its outcome fields; the trigger stamps start and end times.</summary>
    public async Task<RunRow> TransitionAsync(Guid projectId, Guid runId, RunTransition transition, CancellationToken cancellationToken)
    {
        return await ProjectTransaction.RunAsync(dataSource, projectId, scope => scope.Connection.QuerySingleAsync<RunRow>(scope.Command(TransitionSql, new
        {
            RunId = runId,
            Status = transition.Status.ToName(),
            transition.FinalScore,
            OptimizedProgram = transition.OptimizedProgramJson,
            transition.ErrorMessage,
            ErrorDetails = transition.ErrorDetailsJson,
        }, cancellationToken)), cancellationToken);
    }

    /// <summary>Changes descriptive fields; null ones stay as they are.</summary>
    public async Task<RunRow> UpdateAsync(Guid projectId, Guid runId, RunUpdate update, CancellationToken cancellationToken)
    {
        return await ProjectTransaction.RunAsync(dataSource, projectId, scope => scope.Connection.QuerySingleAsync<RunRow>(scope.Command(UpdateSql, new
        {
            RunId = runId,
            update.RunName,
            update.Description,
            Tags = update.Tags?.ToArray(),
            Metadata = update.MetadataJson,
            update.ProgramName,
            update.DatasetName,
            update.MetricName,
            update.TaskModel,
            update.PromptModel,
            update.TotalIterations,
            update.BaselineScore,
        }, cancellationToken)), cancellationToken);
    }

    /// <summary>Deletes the run, its iterations and its samples.</summary>
    public async Task DeleteAsync(Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        await ProjectTransaction.RunAsync(dataSource, projectId, scope =>
            scope.Connection.ExecuteAsync(scope.Command(DeleteSql, new { RunId = runId }, cancellationToken)), cancellationToken);
    }

    /// <summary>Records a heartbeat's progress; null when the run is not visible.</summary>
    public async Task<RunRow?> ProgressAsync(Guid projectId, Guid runId, RunProgress progress, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        RunRow? row;
        await using (var results = await scope.Connection.QueryMultipleAsync(new CommandDefinition(ProgressSql, new
        {
            RunId = runId,
            progress.CurrentIteration,
            progress.TotalIterations,
        }, scope.Transaction, cancellationToken: cancellationToken)))
        {
            await results.ReadSingleAsync<bool>();
            row = await results.ReadSingleOrDefaultAsync<RunRow>();
        }

        await scope.CommitAsync(cancellationToken);
        return row;
    }

    /// <summary>What the grain needs to judge retries: the committed iterations and sample keys with their numbers.</summary>
    public async Task<(IReadOnlyList<IterationRow> Iterations, IReadOnlyList<SampleStatRow> Samples)> LoadIngestStateAsync(
        Guid projectId, Guid runId, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        var iterations = (await scope.Connection.QueryAsync<IterationRow>(
            new CommandDefinition(IterationsSql, new { RunId = runId }, scope.Transaction, cancellationToken: cancellationToken))).ToList();
        var samples = (await scope.Connection.QueryAsync<SampleStatRow>(
            new CommandDefinition(SampleStatsSql, new { RunId = runId }, scope.Transaction, cancellationToken: cancellationToken))).ToList();
        await scope.CommitAsync(cancellationToken);
        return (iterations, samples);
    }
}
