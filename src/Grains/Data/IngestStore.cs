using Dapper;
using Npgsql;
using NpgsqlTypes;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The group-commit transaction of a run: iterations, samples and the run's aggregate columns in one
/// transaction, under the run's project. Samples go by binary COPY into a session staging table and
/// then into the table in one INSERT (COPY FROM cannot target a table under row-level security).
/// The grain has already removed duplicates, so no ON CONFLICT is paid per row.
/// </summary>
public sealed class IngestStore(NpgsqlDataSource dataSource)
{
    // Kept for the physical connection's life (the data source does not reset sessions), emptied at commit.
    private const string StagingSql = """
        CREATE TEMP TABLE IF NOT EXISTS samples_staging (
            iteration integer, sample_index integer, example_id text, inputs jsonb, expected jsonb, prediction jsonb,
            score numeric(7,4), success boolean, error text, latency_ms double precision, prompt_tokens integer,
            completion_tokens integer, cost_usd numeric(14,6), trace_id text, span_id text
        ) ON COMMIT DELETE ROWS
        """;

    private const string CopySql = """
        COPY samples_staging (iteration, sample_index, example_id, inputs, expected, prediction, score, success, error,
            latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id) FROM STDIN (FORMAT BINARY)
        """;

    private const string InsertSamplesSql = """
        INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, expected,
            prediction, score, success, error, latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id)
        SELECT @RunId, @ProjectId, iteration, sample_index, example_id, inputs, expected, prediction, score, success,
            error, latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id
        FROM samples_staging
        """;

    // Samples may arrive before their iteration: its row is created then, and completed when recorded.
    private const string AnnounceIterationsSql = """
        INSERT INTO optimization_iterations (run_id, project_id, iteration)
        SELECT @RunId, @ProjectId, unnest(@Iterations)
        ON CONFLICT (run_id, iteration) DO NOTHING
        """;

    // The larger of the recorded and the sample-derived counts wins, as one triple so the counts stay consistent.
    private const string UpsertIterationSql = """
        INSERT INTO optimization_iterations AS i (run_id, project_id, iteration, kind, score, params, candidate_program,
            samples_evaluated, samples_successful, samples_failed, prompt_tokens, completion_tokens, cost_usd,
            started_at, completed_at, metadata, trace_id, span_id)
        VALUES (@RunId, @ProjectId, @Iteration, @Kind, @Score, COALESCE(@Params::jsonb, '{}'), @CandidateProgram::jsonb,
            @SamplesEvaluated, @SamplesSuccessful, @SamplesFailed, @PromptTokens, @CompletionTokens, @CostUsd,
            @StartedAt, @CompletedAt, COALESCE(@Metadata::jsonb, '{}'), @TraceId, @SpanId)
        ON CONFLICT (run_id, iteration) DO UPDATE SET
            kind = EXCLUDED.kind,
            score = COALESCE(EXCLUDED.score, i.score),
            params = CASE WHEN @Params IS NULL THEN i.params ELSE EXCLUDED.params END,
            candidate_program = COALESCE(EXCLUDED.candidate_program, i.candidate_program),
            samples_evaluated = GREATEST(i.samples_evaluated, EXCLUDED.samples_evaluated),
            samples_successful = CASE WHEN EXCLUDED.samples_evaluated >= i.samples_evaluated
                                      THEN EXCLUDED.samples_successful ELSE i.samples_successful END,
            samples_failed = CASE WHEN EXCLUDED.samples_evaluated >= i.samples_evaluated
                                  THEN EXCLUDED.samples_failed ELSE i.samples_failed END,
            prompt_tokens = GREATEST(i.prompt_tokens, EXCLUDED.prompt_tokens),
            completion_tokens = GREATEST(i.completion_tokens, EXCLUDED.completion_tokens),
            cost_usd = GREATEST(i.cost_usd, EXCLUDED.cost_usd),
            started_at = COALESCE(EXCLUDED.started_at, i.started_at),
            completed_at = COALESCE(EXCLUDED.completed_at, i.completed_at),
            metadata = CASE WHEN @Metadata IS NULL THEN i.metadata ELSE EXCLUDED.metadata END,
            trace_id = COALESCE(EXCLUDED.trace_id, i.trace_id),
            span_id = COALESCE(EXCLUDED.span_id, i.span_id)
        """;

    private const string IterationTotalsSql = """
        UPDATE optimization_iterations AS i SET
            samples_evaluated = GREATEST(i.samples_evaluated, t.evaluated),
            samples_successful = CASE WHEN t.evaluated >= i.samples_evaluated THEN t.successful ELSE i.samples_successful END,
            samples_failed = CASE WHEN t.evaluated >= i.samples_evaluated THEN t.failed ELSE i.samples_failed END,
            prompt_tokens = GREATEST(i.prompt_tokens, t.prompt_tokens),
            completion_tokens = GREATEST(i.completion_tokens, t.completion_tokens),
            cost_usd = GREATEST(i.cost_usd, t.cost_usd),
            avg_latency_ms = COALESCE(t.avg_latency_ms, i.avg_latency_ms)
        FROM unnest(@Iterations, @Evaluated, @Successful, @Failed, @PromptTokens, @CompletionTokens, @CostUsd, @AvgLatencyMs)
            AS t(iteration, evaluated, successful, failed, prompt_tokens, completion_tokens, cost_usd, avg_latency_ms)
        WHERE i.run_id = @RunId AND i.iteration = t.iteration
        """;

    private const string RunTotalsSql = """
        UPDATE optimization_runs SET
            status = @Status, samples_evaluated = @Evaluated, samples_successful = @Successful, samples_failed = @Failed,
            prompt_tokens = @PromptTokens, completion_tokens = @CompletionTokens, cost_usd = @CostUsd,
            avg_latency_ms = @AvgLatencyMs
        WHERE id = @RunId
        RETURNING status, baseline_score, best_score, best_minibatch_score, improvement, improvement_pct,
            completed_iterations, current_iteration, best_iteration, start_time, updated_at
        """;

    /// <summary>Commits <paramref name="batch"/> in one transaction; returns what the database derived for the run.</summary>
    public async Task<RunDerivedRow> CommitAsync(Guid projectId, Guid runId, IngestBatch batch, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        var connection = scope.Connection;
        var transaction = scope.Transaction;
        var ids = new { RunId = runId, ProjectId = projectId };

        if (batch.SampleIterations.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(AnnounceIterationsSql,
                new { RunId = runId, ProjectId = projectId, Iterations = batch.SampleIterations.ToArray() },
                transaction, cancellationToken: cancellationToken));
        }

        foreach (var iteration in batch.Iterations)
        {
            await connection.ExecuteAsync(new CommandDefinition(UpsertIterationSql, IterationParameters(ids.RunId, ids.ProjectId, iteration),
                transaction, cancellationToken: cancellationToken));
        }

        if (batch.Samples.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(StagingSql, transaction: transaction, cancellationToken: cancellationToken));
            await CopySamplesAsync(connection, batch.Samples, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(InsertSamplesSql, ids, transaction, cancellationToken: cancellationToken));
        }

        if (batch.IterationTotals.Count > 0)
        {
            var totals = batch.IterationTotals.OrderBy(t => t.Key).ToList();
            await connection.ExecuteAsync(new CommandDefinition(IterationTotalsSql, new
            {
                RunId = runId,
                Iterations = totals.Select(t => t.Key).ToArray(),
                Evaluated = totals.Select(t => (int)t.Value.Evaluated).ToArray(),
                Successful = totals.Select(t => (int)t.Value.Successful).ToArray(),
                Failed = totals.Select(t => (int)t.Value.Failed).ToArray(),
                PromptTokens = totals.Select(t => t.Value.PromptTokens).ToArray(),
                CompletionTokens = totals.Select(t => t.Value.CompletionTokens).ToArray(),
                CostUsd = totals.Select(t => t.Value.CostUsd).ToArray(),
                AvgLatencyMs = totals.Select(t => t.Value.AvgLatencyMs).ToArray(),
            }, transaction, cancellationToken: cancellationToken));
        }

        var run = batch.RunTotals;
        var derived = await connection.QuerySingleAsync<RunDerivedRow>(new CommandDefinition(RunTotalsSql, new
        {
            RunId = runId,
            Status = batch.Status.ToName(),
            run.Evaluated,
            run.Successful,
            run.Failed,
            run.PromptTokens,
            run.CompletionTokens,
            run.CostUsd,
            run.AvgLatencyMs,
        }, transaction, cancellationToken: cancellationToken));

        await scope.CommitAsync(cancellationToken);
        return derived;
    }

    private static object IterationParameters(Guid runId, Guid projectId, IterationRecord iteration) => new
    {
        RunId = runId,
        ProjectId = projectId,
        iteration.Iteration,
        Kind = iteration.Kind.ToName(),
        iteration.Score,
        Params = iteration.ParamsJson,
        CandidateProgram = iteration.CandidateProgramJson,
        SamplesEvaluated = iteration.SamplesEvaluated ?? 0,
        SamplesSuccessful = iteration.SamplesSuccessful ?? 0,
        SamplesFailed = iteration.SamplesFailed ?? 0,
        PromptTokens = iteration.PromptTokens ?? 0,
        CompletionTokens = iteration.CompletionTokens ?? 0,
        CostUsd = iteration.CostUsd ?? 0,
        StartedAt = iteration.StartedAt,
        CompletedAt = iteration.CompletedAt,
        Metadata = iteration.MetadataJson,
        iteration.TraceId,
        iteration.SpanId,
    };

    private static async Task CopySamplesAsync(NpgsqlConnection connection, List<SampleRecord> samples, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken);
        foreach (var s in samples)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(s.Iteration, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(s.SampleIndex, NpgsqlDbType.Integer, cancellationToken);
            await WriteNullableAsync(writer, s.ExampleId, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(writer, s.InputsJson, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteNullableAsync(writer, s.ExpectedJson, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteNullableAsync(writer, s.PredictionJson, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteNullableAsync(writer, s.Score, NpgsqlDbType.Numeric, cancellationToken);
            await writer.WriteAsync(s.Success, NpgsqlDbType.Boolean, cancellationToken);
            await WriteNullableAsync(writer, s.Error, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(writer, s.LatencyMs, NpgsqlDbType.Double, cancellationToken);
            await writer.WriteAsync(s.PromptTokens, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(s.CompletionTokens, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(s.CostUsd, NpgsqlDbType.Numeric, cancellationToken);
            await WriteNullableAsync(writer, s.TraceId, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(writer, s.SpanId, NpgsqlDbType.Text, cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? writer.WriteAsync(v, type, cancellationToken) : writer.WriteNullAsync(cancellationToken);
}
