using Dapper;
using Npgsql;
using NpgsqlTypes;
using OptimizationRuns.Grains.Runs;
using static OptimizationRuns.Grains.Data.BatchParameters;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The group-commit transaction of a run: iterations, samples and the run's aggregate columns in one
/// transaction, under the run's project, sent as one batch (one round trip, then the commit).
/// Samples go in one INSERT from typed arrays: COPY FROM cannot target a table under row-level
/// security, and a staging table would cost a truncation per commit. The grain has already removed
/// duplicates, so no ON CONFLICT is paid per row. Every change of the run row (patches, progress, status, totals)
/// is written here, in the grain's order; only the live progress the grain accepts between commits is also written
/// by the silo's progress writer (<see cref="ProgressStore"/>), never over a newer commit.
/// </summary>
public sealed class IngestStore(NpgsqlDataSource dataSource)
{
    // Samples may arrive before their iteration: its row is created then, and completed when recorded.
    private const string AnnounceIterationsSql = """
        INSERT INTO optimization_iterations (run_id, project_id, iteration)
        SELECT $1, $2, unnest($3::integer[])
        ON CONFLICT (run_id, iteration) DO NOTHING
        """;

    // The larger of the recorded and the sample-derived counts wins, as one triple so the counts stay consistent.
    private const string UpsertIterationSql = """
        INSERT INTO optimization_iterations AS i (run_id, project_id, iteration, kind, score, params, candidate_program,
            samples_evaluated, samples_successful, samples_failed, prompt_tokens, completion_tokens, cost_usd,
            started_at, completed_at, metadata, trace_id, span_id)
        VALUES ($1, $2, $3, $4, $5, COALESCE($6, '{}'), $7, $8, $9, $10, $11, $12, $13, $14, $15, COALESCE($16, '{}'), $17, $18)
        ON CONFLICT (run_id, iteration) DO UPDATE SET
            kind = EXCLUDED.kind,
            score = COALESCE(EXCLUDED.score, i.score),
            params = CASE WHEN $6 IS NULL THEN i.params ELSE EXCLUDED.params END,
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
            metadata = CASE WHEN $16 IS NULL THEN i.metadata ELSE EXCLUDED.metadata END,
            trace_id = COALESCE(EXCLUDED.trace_id, i.trace_id),
            span_id = COALESCE(EXCLUDED.span_id, i.span_id)
        """;

    private const string InsertSamplesSql = """
        INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, expected,
            prediction, score, success, error, latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id)
        SELECT $1, $2, s.*
        FROM unnest($3::integer[], $4::integer[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[], $9::numeric[],
                    $10::boolean[], $11::text[], $12::double precision[], $13::integer[], $14::integer[], $15::numeric[],
                    $16::text[], $17::text[]) AS s
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
        FROM unnest($2::integer[], $3::integer[], $4::integer[], $5::integer[], $6::bigint[], $7::bigint[], $8::numeric[],
                    $9::double precision[])
            AS t(iteration, evaluated, successful, failed, prompt_tokens, completion_tokens, cost_usd, avg_latency_ms)
        WHERE i.run_id = $1 AND i.iteration = t.iteration
        """;

    // The fields a patch changes, written before the iterations so their roll-up trigger sees the baseline given.
    private const string PatchRunSql = """
        UPDATE optimization_runs SET
            run_name = $2, description = $3, tags = $4, metadata = $5, program_name = $6, dataset_name = $7,
            metric_name = $8, task_model = $9, prompt_model = $10, total_iterations = $11, baseline_score = $12,
            final_score = $13, optimized_program = $14, error_message = $15, error_details = $16
        WHERE id = $1
        """;

    // Last: the run's status, totals and live progress; answers the whole row with what the database derived.
    private const string RunSql = $"""
        UPDATE optimization_runs SET
            status = $2, samples_evaluated = $3, samples_successful = $4, samples_failed = $5,
            prompt_tokens = $6, completion_tokens = $7, cost_usd = $8, avg_latency_ms = $9,
            current_iteration = GREATEST(current_iteration, $10), phase = $11, message = $12,
            p50_latency_ms = $13, p95_latency_ms = $14, last_heartbeat_at = $15
        WHERE id = $1
        RETURNING {RowMapping.RunColumns}
        """;

    /// <summary>Commits <paramref name="batch"/> in one transaction; returns the run row as committed.</summary>
    public async Task<RunSnapshot> CommitAsync(Guid projectId, Guid runId, IngestBatch batch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var commands = new NpgsqlBatch(connection, transaction);

        var run = batch.Run;
        commands.BatchCommands.Add(ProjectTransaction.SetProjectCommand(projectId));
        if (batch.PatchesRun)
        {
            commands.BatchCommands.Add(Command(PatchRunSql, Value(runId), Text(run.RunName), Text(run.Description),
                Array(run.Tags.ToArray(), NpgsqlDbType.Text), Json(run.MetadataJson), Text(run.ProgramName), Text(run.DatasetName),
                Text(run.MetricName), Text(run.TaskModel), Text(run.PromptModel), Nullable(run.TotalIterations, NpgsqlDbType.Integer),
                Nullable(run.BaselineScore, NpgsqlDbType.Numeric), Nullable(run.FinalScore, NpgsqlDbType.Numeric),
                Json(run.OptimizedProgramJson), Text(run.ErrorMessage), Json(run.ErrorDetailsJson)));
        }

        if (batch.SampleIterations.Count > 0)
        {
            commands.BatchCommands.Add(Command(AnnounceIterationsSql,
                Value(runId), Value(projectId), Array(batch.SampleIterations.ToArray(), NpgsqlDbType.Integer)));
        }

        foreach (var iteration in batch.Iterations)
        {
            commands.BatchCommands.Add(UpsertIteration(runId, projectId, iteration));
        }

        if (batch.Samples.Count > 0)
        {
            commands.BatchCommands.Add(InsertSamples(runId, projectId, batch.Samples));
        }

        if (batch.IterationTotals.Count > 0)
        {
            commands.BatchCommands.Add(IterationTotals(runId, batch.IterationTotals));
        }

        commands.BatchCommands.Add(Command(RunSql,
            Value(runId), Text(run.Status.ToName()), Value(run.SamplesEvaluated), Value(run.SamplesSuccessful), Value(run.SamplesFailed),
            Value(run.PromptTokens), Value(run.CompletionTokens), Value(run.CostUsd), Nullable(run.AvgLatencyMs, NpgsqlDbType.Double),
            Nullable(run.CurrentIteration, NpgsqlDbType.Integer), Text(run.Phase), Text(run.Message),
            Nullable(run.P50LatencyMs, NpgsqlDbType.Double), Nullable(run.P95LatencyMs, NpgsqlDbType.Double),
            Nullable(run.LastHeartbeatAt?.ToUniversalTime(), NpgsqlDbType.TimestampTz)));

        var committed = await ReadRunAsync(commands, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return committed;
    }

    // The run comes back from the batch's last statement, the only one that answers more than one column.
    private static async Task<RunSnapshot> ReadRunAsync(NpgsqlBatch commands, CancellationToken cancellationToken)
    {
        await using var reader = await commands.ExecuteReaderAsync(cancellationToken);
        RunSnapshot? run = null;
        do
        {
            if (reader.FieldCount > 1 && await reader.ReadAsync(cancellationToken))
            {
                run = reader.GetRowParser<RunSnapshot>()(reader);
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

        return run ?? throw new InvalidOperationException("The run row was not updated: it is not visible in this project.");
    }

    private static NpgsqlBatchCommand UpsertIteration(Guid runId, Guid projectId, IterationRecord it) => Command(UpsertIterationSql,
        Value(runId), Value(projectId), Value(it.Iteration), Text(it.Kind!.Value.ToName()), Nullable(it.Score, NpgsqlDbType.Numeric),
        Json(it.ParamsJson), Json(it.CandidateProgramJson), Value(it.SamplesEvaluated ?? 0), Value(it.SamplesSuccessful ?? 0),
        Value(it.SamplesFailed ?? 0), Value(it.PromptTokens ?? 0L), Value(it.CompletionTokens ?? 0L), Value(it.CostUsd ?? 0m),
        Nullable(it.StartedAt?.ToUniversalTime(), NpgsqlDbType.TimestampTz), Nullable(it.CompletedAt?.ToUniversalTime(), NpgsqlDbType.TimestampTz), Json(it.MetadataJson),
        Text(it.TraceId), Text(it.SpanId));

    private static NpgsqlBatchCommand InsertSamples(Guid runId, Guid projectId, List<SampleRecord> samples)
    {
        var n = samples.Count;
        var iteration = new int[n];
        var index = new int[n];
        var exampleId = new string?[n];
        var inputs = new string?[n];
        var expected = new string?[n];
        var prediction = new string?[n];
        var score = new decimal?[n];
        var success = new bool[n];
        var error = new string?[n];
        var latency = new double?[n];
        var promptTokens = new int[n];
        var completionTokens = new int[n];
        var cost = new decimal[n];
        var traceId = new string?[n];
        var spanId = new string?[n];
        for (var i = 0; i < n; i++)
        {
            var s = samples[i];
            (iteration[i], index[i], exampleId[i], inputs[i], expected[i], prediction[i]) =
                (s.Iteration, s.SampleIndex, s.ExampleId, s.InputsJson, s.ExpectedJson, s.PredictionJson);
            (score[i], success[i], error[i], latency[i], promptTokens[i], completionTokens[i], cost[i], traceId[i], spanId[i]) =
                (s.Score, s.Success, s.Error, s.LatencyMs, s.PromptTokens, s.CompletionTokens, s.CostUsd, s.TraceId, s.SpanId);
        }

        return Command(InsertSamplesSql, Value(runId), Value(projectId),
            Array(iteration, NpgsqlDbType.Integer), Array(index, NpgsqlDbType.Integer), Array(exampleId, NpgsqlDbType.Text),
            Array(inputs, NpgsqlDbType.Jsonb), Array(expected, NpgsqlDbType.Jsonb), Array(prediction, NpgsqlDbType.Jsonb),
            Array(score, NpgsqlDbType.Numeric), Array(success, NpgsqlDbType.Boolean), Array(error, NpgsqlDbType.Text),
            Array(latency, NpgsqlDbType.Double), Array(promptTokens, NpgsqlDbType.Integer), Array(completionTokens, NpgsqlDbType.Integer),
            Array(cost, NpgsqlDbType.Numeric), Array(traceId, NpgsqlDbType.Text), Array(spanId, NpgsqlDbType.Text));
    }

    private static NpgsqlBatchCommand IterationTotals(Guid runId, Dictionary<int, SampleTotals> byIteration)
    {
        var totals = byIteration.OrderBy(t => t.Key).ToList();
        return Command(IterationTotalsSql, Value(runId),
            Array(totals.Select(t => t.Key).ToArray(), NpgsqlDbType.Integer),
            Array(totals.Select(t => (int)t.Value.Evaluated).ToArray(), NpgsqlDbType.Integer),
            Array(totals.Select(t => (int)t.Value.Successful).ToArray(), NpgsqlDbType.Integer),
            Array(totals.Select(t => (int)t.Value.Failed).ToArray(), NpgsqlDbType.Integer),
            Array(totals.Select(t => t.Value.PromptTokens).ToArray(), NpgsqlDbType.Bigint),
            Array(totals.Select(t => t.Value.CompletionTokens).ToArray(), NpgsqlDbType.Bigint),
            Array(totals.Select(t => t.Value.CostUsd).ToArray(), NpgsqlDbType.Numeric),
            Array(totals.Select(t => t.Value.AvgLatencyMs).ToArray(), NpgsqlDbType.Double));
    }
}
