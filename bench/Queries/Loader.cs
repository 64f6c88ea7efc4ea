using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace OptimizationRuns.Bench.Queries;

/// <summary>
/// Loads a <see cref="DataSet"/> as the schema owner (who is not subject to row-level security) by binary COPY:
/// runs, then iterations (the schema's triggers mark the best iteration and roll the trials up into the run as
/// each row arrives; nothing is disabled), then samples, each on two connections. Then VACUUM ANALYZE and a refresh of
/// the analytics view, as a database that has been running for months would have had.
/// </summary>
public sealed class Loader(NpgsqlDataSource owner, DataSet data)
{
    private const string RunsCopy = """
        COPY optimization_runs (id, project_id, run_name, description, optimizer_type, status, created_by, config, metadata,
            tags, program_name, dataset_name, metric_name, task_model, prompt_model, final_score, total_iterations,
            samples_evaluated, samples_successful, samples_failed, prompt_tokens, completion_tokens, cost_usd,
            avg_latency_ms, optimized_program, error_message, error_details, start_time, end_time, created_at, updated_at)
        FROM STDIN (FORMAT BINARY)
        """;

    private const string IterationsCopy = """
        COPY optimization_iterations (run_id, project_id, iteration, kind, params, candidate_program, score,
            samples_evaluated, samples_successful, samples_failed, prompt_tokens, completion_tokens, cost_usd,
            avg_latency_ms, started_at, completed_at, trace_id, span_id, created_at, updated_at)
        FROM STDIN (FORMAT BINARY)
        """;

    private const string SamplesCopy = """
        COPY optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, expected, prediction,
            score, success, error, latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id, created_at)
        FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>Seconds per phase, for the report.</summary>
    public Dictionary<string, double> Seconds { get; } = [];

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        await TimedAsync("runs", data.Runs.Count, async ct => await CopyRunsAsync(ct), cancellationToken);
        // The triggers lock and update each iteration's run: two connections over disjoint runs share the work.
        // Each COPY is one chunk of runs (its own transaction), so the progress shows rows committed.
        await TimedAsync("iterations", data.IterationCount, ct => ParallelAsync(Chunks(5_000, r => r.IterationCount), CopyIterationsAsync, ct), cancellationToken);
        await TimedAsync("samples", data.SampleCount, ct => ParallelAsync(Chunks(50_000, r => r.SamplesEvaluated), CopySamplesAsync, ct), cancellationToken);

        var step = Stopwatch.StartNew();
        Console.WriteLine("  VACUUM FULL optimization_runs; VACUUM ANALYZE; REFRESH MATERIALIZED VIEW optimization_run_analytics ...");
        await using (var connection = await owner.OpenConnectionAsync(cancellationToken))
        {
            foreach (var sql in new[]
                     {
                         "SET maintenance_work_mem = '256MB'",
                         // Loading every iteration of a run back to back makes the triggers update its row ~20 times in a
                         // row, which leaves optimization_runs ~10× its live size; a live system's updates are spread
                         // over each run's life and mostly HOT. Rewrite it compactly, as it would be in steady state.
                         "VACUUM (FULL) optimization_runs",
                         "VACUUM (ANALYZE) optimization_runs",
                         "VACUUM (ANALYZE) optimization_iterations",
                         "VACUUM (ANALYZE) optimization_samples",
                         "REFRESH MATERIALIZED VIEW optimization_run_analytics",
                         "ANALYZE optimization_run_analytics",
                     })
            {
                await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 900 };
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        Seconds["vacuum_analyze_refresh"] = step.Elapsed.TotalSeconds;
        Seconds["total"] = total.Elapsed.TotalSeconds;
        Console.WriteLine($"  vacuum, analyze, refresh: {step.Elapsed.TotalSeconds:0.0} s; load total {total.Elapsed.TotalSeconds:0.0} s");
    }

    private async Task TimedAsync(string table, long rows, Func<CancellationToken, Task<long>> load, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        Console.WriteLine($"  {table}: {rows:N0} rows by binary COPY ...");
        var written = await load(cancellationToken);
        Seconds[table] = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"  {table}: {written:N0} rows in {watch.Elapsed.TotalSeconds:0.0} s = {written / watch.Elapsed.TotalSeconds:N0} rows/s");
        if (written != rows)
        {
            throw new InvalidOperationException($"{table}: wrote {written} rows, expected {rows}.");
        }
    }

    // Consecutive runs in chunks of about `rowsPerChunk` rows of the table being loaded.
    private List<List<RunSpec>> Chunks(long rowsPerChunk, Func<RunSpec, long> rowsOf)
    {
        var chunks = new List<List<RunSpec>> { new() };
        long rows = 0;
        foreach (var run in data.Runs)
        {
            if (rows >= rowsPerChunk)
            {
                chunks.Add([]);
                rows = 0;
            }

            chunks[^1].Add(run);
            rows += rowsOf(run);
        }

        return chunks;
    }

    // Two connections take chunks in turn; the combined committed rate is printed every few seconds.
    private static async Task<long> ParallelAsync(
        List<List<RunSpec>> chunks, Func<List<RunSpec>, CancellationToken, Task<long>> copy, CancellationToken cancellationToken)
    {
        long committed = 0;
        var next = -1;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = Task.Run(async () =>
        {
            var watch = Stopwatch.StartNew();
            long last = 0;
            var lastAt = TimeSpan.Zero;
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), stop.Token);
                    var now = watch.Elapsed;
                    var rows = Interlocked.Read(ref committed);
                    Console.WriteLine($"    … {rows,11:N0} rows committed, {(rows - last) / (now - lastAt).TotalSeconds,9:N0} rows/s now, {rows / now.TotalSeconds,9:N0} rows/s overall");
                    (last, lastAt) = (rows, now);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < chunks.Count)
                {
                    Interlocked.Add(ref committed, await copy(chunks[i], cancellationToken));
                }
            }, cancellationToken)));
            return committed;
        }
        finally
        {
            await stop.CancelAsync();
            await reporter;
        }
    }

    private async Task<long> CopyRunsAsync(CancellationToken ct)
    {
        await using var connection = await owner.OpenConnectionAsync(ct);
        await using var writer = await connection.BeginBinaryImportAsync(RunsCopy, ct);
        foreach (var r in data.Runs)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(r.ProjectId, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(r.RunName, NpgsqlDbType.Text, ct);
            await NullableAsync(writer, r.Description, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.OptimizerType, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.Status, NpgsqlDbType.Text, ct);
            await NullableAsync(writer, r.CreatedBy, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.ConfigJson, NpgsqlDbType.Jsonb, ct);
            await writer.WriteAsync(r.MetadataJson, NpgsqlDbType.Jsonb, ct);
            await writer.WriteAsync(r.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.ProgramName, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.DatasetName, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.MetricName, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.TaskModel, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(r.PromptModel, NpgsqlDbType.Text, ct);
            await NullableAsync(writer, r.FinalScore, NpgsqlDbType.Numeric, ct);
            await writer.WriteAsync(r.PlannedIterations, NpgsqlDbType.Integer, ct);
            await writer.WriteAsync(r.SamplesEvaluated, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(r.SamplesSuccessful, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(r.SamplesFailed, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(r.PromptTokens, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(r.CompletionTokens, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(r.CostUsd, NpgsqlDbType.Numeric, ct);
            await NullableAsync(writer, r.AvgLatencyMs, NpgsqlDbType.Double, ct);
            await NullableAsync(writer, r.OptimizedProgramJson, NpgsqlDbType.Jsonb, ct);
            await NullableAsync(writer, r.ErrorMessage, NpgsqlDbType.Text, ct);
            await NullableAsync(writer, r.ErrorDetailsJson, NpgsqlDbType.Jsonb, ct);
            await NullableAsync(writer, r.StartTime, NpgsqlDbType.TimestampTz, ct);
            await NullableAsync(writer, r.EndTime, NpgsqlDbType.TimestampTz, ct);
            await writer.WriteAsync(r.CreatedAt, NpgsqlDbType.TimestampTz, ct);
            await writer.WriteAsync(r.EndTime ?? r.StartTime ?? r.CreatedAt, NpgsqlDbType.TimestampTz, ct);
        }

        return (long)await writer.CompleteAsync(ct);
    }

    private async Task<long> CopyIterationsAsync(List<RunSpec> runs, CancellationToken ct)
    {
        await using var connection = await owner.OpenConnectionAsync(ct);
        await using var writer = await connection.BeginBinaryImportAsync(IterationsCopy, ct);
        foreach (var run in runs)
        {
            for (var i = run.FirstIteration; i < run.FirstIteration + run.IterationCount; i++)
            {
                var it = data.Iterations[i];
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(run.Id, NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(run.ProjectId, NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(it.Iteration, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(it.Kind, NpgsqlDbType.Text, ct);
                await writer.WriteAsync(it.ParamsJson, NpgsqlDbType.Jsonb, ct);
                await NullableAsync(writer, it.CandidateProgramJson, NpgsqlDbType.Jsonb, ct);
                await NullableAsync(writer, it.Score, NpgsqlDbType.Numeric, ct);
                await writer.WriteAsync(it.Samples, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(it.Successful, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(it.Failed, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(it.PromptTokens, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(it.CompletionTokens, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(it.CostUsd, NpgsqlDbType.Numeric, ct);
                await NullableAsync(writer, it.AvgLatencyMs, NpgsqlDbType.Double, ct);
                await NullableAsync(writer, it.StartedAt, NpgsqlDbType.TimestampTz, ct);
                await NullableAsync(writer, it.CompletedAt, NpgsqlDbType.TimestampTz, ct);
                await NullableAsync(writer, it.TraceId, NpgsqlDbType.Text, ct);
                await NullableAsync(writer, it.SpanId, NpgsqlDbType.Text, ct);
                await writer.WriteAsync(it.StartedAt ?? run.CreatedAt, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(it.CompletedAt ?? it.StartedAt ?? run.CreatedAt, NpgsqlDbType.TimestampTz, ct);
            }
        }

        return (long)await writer.CompleteAsync(ct);
    }

    private async Task<long> CopySamplesAsync(List<RunSpec> runs, CancellationToken ct)
    {
        await using var connection = await owner.OpenConnectionAsync(ct);
        await using var writer = await connection.BeginBinaryImportAsync(SamplesCopy, ct);
        foreach (var run in runs)
        {
            for (var i = run.FirstIteration; i < run.FirstIteration + run.IterationCount; i++)
            {
                var it = data.Iterations[i];
                var createdAt = it.StartedAt ?? run.CreatedAt;
                for (var k = 0; k < it.Samples; k++)
                {
                    var f = DataSet.Facts(it, k);
                    var example = data.ExampleOf(it, k);
                    await writer.StartRowAsync(ct);
                    await writer.WriteAsync(run.Id, NpgsqlDbType.Uuid, ct);
                    await writer.WriteAsync(run.ProjectId, NpgsqlDbType.Uuid, ct);
                    await writer.WriteAsync(it.Iteration, NpgsqlDbType.Integer, ct);
                    await writer.WriteAsync(k, NpgsqlDbType.Integer, ct);
                    await writer.WriteAsync($"{run.DatasetName}-{example:00000}", NpgsqlDbType.Text, ct);
                    await writer.WriteAsync(data.InputsJson(example), NpgsqlDbType.Jsonb, ct);
                    await writer.WriteAsync(data.ExpectedJson(example), NpgsqlDbType.Jsonb, ct);
                    await NullableAsync(writer, f.Success ? data.PredictionJson(f, example) : null, NpgsqlDbType.Jsonb, ct);
                    await NullableAsync(writer, f.Score, NpgsqlDbType.Numeric, ct);
                    await writer.WriteAsync(f.Success, NpgsqlDbType.Boolean, ct);
                    await NullableAsync(writer, f.Success ? null : DataSet.ErrorText(f), NpgsqlDbType.Text, ct);
                    await writer.WriteAsync(f.LatencyMs, NpgsqlDbType.Double, ct);
                    await writer.WriteAsync(f.PromptTokens, NpgsqlDbType.Integer, ct);
                    await writer.WriteAsync(f.CompletionTokens, NpgsqlDbType.Integer, ct);
                    await writer.WriteAsync(f.CostUsd, NpgsqlDbType.Numeric, ct);
                    // About 40% of samples carry the trace of their LM calls.
                    var traced = f.Hash % 10 < 4;
                    await NullableAsync(writer, traced ? DataSet.Hex(f.Hash2, f.Hash, 32) : null, NpgsqlDbType.Text, ct);
                    await NullableAsync(writer, traced ? DataSet.Hex(f.Hash, f.Hash2, 16) : null, NpgsqlDbType.Text, ct);
                    await writer.WriteAsync(createdAt.AddMilliseconds(k * 40), NpgsqlDbType.TimestampTz, ct);
                    }
            }
        }

        return (long)await writer.CompleteAsync(ct);
    }

    private static Task NullableAsync<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken ct) where T : class =>
        value is null ? writer.WriteNullAsync(ct) : writer.WriteAsync(value, type, ct);

    private static Task NullableAsync<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken ct) where T : struct =>
        value is { } v ? writer.WriteAsync(v, type, ct) : writer.WriteNullAsync(ct);
}
