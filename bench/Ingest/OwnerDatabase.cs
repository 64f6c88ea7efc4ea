using Npgsql;
using NpgsqlTypes;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>The schema owner's side: the project, the raw runs, the raw COPY and the counts that verify a round.</summary>
public sealed class OwnerDatabase(NpgsqlDataSource owner) : IAsyncDisposable
{
    private const string CopySql = """
        COPY optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, expected, prediction,
            score, success, error, latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id)
        FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>The benchmark database's name.</summary>
    public string DatabaseName { get; } = new NpgsqlConnectionStringBuilder(owner.ConnectionString).Database ?? "";

    public static OwnerDatabase FromEnvironment()
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__PostgresOwner");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("ConnectionStrings__PostgresOwner is not set (bench/ingest.sh sets it).");
        }

        return new OwnerDatabase(NpgsqlDataSource.Create(connectionString));
    }

    /// <summary>A fresh project, inserted as the owner (the admin path past RLS).</summary>
    public async Task<Guid> CreateProjectAsync(CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("INSERT INTO project_config (id, name) VALUES ($1, $2)", cancellationToken, id, $"bench-ingest-{id:N}");
        return id;
    }

    /// <summary>Runs with their iteration rows 0..<paramref name="lastIteration"/>, so the raw COPY meets its foreign key.</summary>
    public async Task CreateRawRunsAsync(Guid projectId, IReadOnlyList<Guid> runIds, int lastIteration, CancellationToken cancellationToken)
    {
        foreach (var runId in runIds)
        {
            await ExecuteAsync("""
                INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, status, config)
                VALUES ($1, $2, $3, 'miprov2', 'running', '{"auto": "medium"}')
                """, cancellationToken, runId, projectId, $"raw-{runId:N}");
            await ExecuteAsync("""
                INSERT INTO optimization_iterations (run_id, project_id, iteration)
                SELECT $1, $2, generate_series(0, $3)
                """, cancellationToken, runId, projectId, lastIteration);
        }
    }

    /// <summary>A binary COPY straight into optimization_samples on one connection (one transaction).</summary>
    public async Task<RawCopy> BeginCopyAsync(Guid projectId, CancellationToken cancellationToken)
    {
        var connection = await owner.OpenConnectionAsync(cancellationToken);
        var writer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken);
        return new RawCopy(connection, writer, projectId);
    }

    /// <summary>Rows stored for <paramref name="runIds"/>, and the sum of the runs' samples_evaluated columns.</summary>
    public async Task<(long Rows, long RunTotals)> CountAsync(IReadOnlyList<Guid> runIds, CancellationToken cancellationToken)
    {
        await using var connection = await owner.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM optimization_samples WHERE run_id = ANY($1)),
                   (SELECT coalesce(sum(samples_evaluated), 0)::bigint FROM optimization_runs WHERE id = ANY($1))
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The average stored size of the rows of <paramref name="runIds"/> (pg_column_size of the row).</summary>
    public async Task<int> StoredRowBytesAsync(IReadOnlyList<Guid> runIds, CancellationToken cancellationToken) =>
        Convert.ToInt32(await ScalarAsync(
            "SELECT coalesce(avg(pg_column_size(s.*)), 0)::int FROM optimization_samples s WHERE run_id = ANY($1)",
            cancellationToken, runIds.ToArray()));

    /// <summary>
    /// Rows in optimization_samples and the bytes they take: heap, TOAST and maps, each index. Summed over the leaves of
    /// <c>pg_partition_tree</c>, so a partitioned table is measured as its partitions (a plain table as itself: the tree
    /// of a plain table is empty).
    /// </summary>
    public async Task<SampleStorage> SampleStorageAsync(CancellationToken cancellationToken)
    {
        var rows = Convert.ToInt64(await ScalarAsync("SELECT count(*) FROM optimization_samples", cancellationToken));
        await using var connection = await owner.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            WITH leaves AS (
                SELECT relid FROM pg_partition_tree('optimization_samples') WHERE isleaf
                UNION SELECT oid::regclass FROM pg_class WHERE oid = 'optimization_samples'::regclass AND relkind = 'r')
            SELECT (SELECT sum(pg_relation_size(relid))::bigint FROM leaves),
                   (SELECT sum(pg_table_size(relid) - pg_relation_size(relid))::bigint FROM leaves),
                   (SELECT sum(pg_total_relation_size(relid))::bigint FROM leaves),
                   (SELECT json_object_agg(name, bytes)::text FROM (
                        SELECT coalesce(p.relname, c.relname) AS name, sum(pg_relation_size(i.indexrelid))::bigint AS bytes
                        FROM leaves l JOIN pg_index i ON i.indrelid = l.relid JOIN pg_class c ON c.oid = i.indexrelid
                        LEFT JOIN pg_inherits h ON h.inhrelid = i.indexrelid LEFT JOIN pg_class p ON p.oid = h.inhparent
                        GROUP BY 1 ORDER BY 2 DESC) AS per_index)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var indexes = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(3)) ?? [];
        return new SampleStorage(rows, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), indexes);
    }

    /// <summary>
    /// The server's current WAL position in bytes and the database's committed transactions (differences between two
    /// readings: the WAL written and the commits made). The statistics reach the shared counters after each
    /// transaction, at most a second late, so a round of many seconds reads them closely.
    /// </summary>
    public async Task<DatabaseCounters> CountersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await owner.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, xact_commit
            FROM pg_stat_database WHERE datname = current_database()
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new DatabaseCounters(reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<string> ServerVersionAsync(CancellationToken cancellationToken) =>
        (string)(await ScalarAsync("SHOW server_version", cancellationToken))!;

    public ValueTask DisposeAsync() => owner.DisposeAsync();

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = owner.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        // The counts and sizes read a whole table: on a 10 M-sample database under load they outlast Npgsql's default 30 s.
        await using var command = owner.CreateCommand(sql);
        command.CommandTimeout = 600;
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteScalarAsync(cancellationToken);
    }
}

/// <summary>What optimization_samples takes on disk: heap, TOAST and maps, all of it with indexes, and each index.</summary>
public sealed record SampleStorage(long Rows, long HeapBytes, long ToastBytes, long TotalBytes, IReadOnlyDictionary<string, long> IndexBytes)
{
    /// <summary>Bytes per stored sample, indexes included.</summary>
    public double BytesPerRow => Rows == 0 ? 0 : TotalBytes / (double)Rows;
}

/// <summary>One open binary COPY into optimization_samples; <see cref="CompleteAsync"/> commits it.</summary>
public sealed class RawCopy(NpgsqlConnection connection, NpgsqlBinaryImporter writer, Guid projectId) : IAsyncDisposable
{
    /// <summary>Writes a row the way IngestStore writes one to its staging table, plus the run and project.</summary>
    public async Task WriteAsync(Guid runId, SampleRecord s, CancellationToken cancellationToken)
    {
        await writer.StartRowAsync(cancellationToken);
        await writer.WriteAsync(runId, NpgsqlDbType.Uuid, cancellationToken);
        await writer.WriteAsync(projectId, NpgsqlDbType.Uuid, cancellationToken);
        await writer.WriteAsync(s.Iteration, NpgsqlDbType.Integer, cancellationToken);
        await writer.WriteAsync(s.SampleIndex, NpgsqlDbType.Integer, cancellationToken);
        await WriteNullableAsync(s.ExampleId, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(s.InputsJson, NpgsqlDbType.Jsonb, cancellationToken);
        await WriteNullableAsync(s.ExpectedJson, NpgsqlDbType.Jsonb, cancellationToken);
        await WriteNullableAsync(s.PredictionJson, NpgsqlDbType.Jsonb, cancellationToken);
        if (s.Score is { } score)
        {
            await writer.WriteAsync(score, NpgsqlDbType.Numeric, cancellationToken);
        }
        else
        {
            await writer.WriteNullAsync(cancellationToken);
        }

        await writer.WriteAsync(s.Success, NpgsqlDbType.Boolean, cancellationToken);
        await WriteNullableAsync(s.Error, NpgsqlDbType.Text, cancellationToken);
        if (s.LatencyMs is { } latency)
        {
            await writer.WriteAsync(latency, NpgsqlDbType.Double, cancellationToken);
        }
        else
        {
            await writer.WriteNullAsync(cancellationToken);
        }

        await writer.WriteAsync(s.PromptTokens, NpgsqlDbType.Integer, cancellationToken);
        await writer.WriteAsync(s.CompletionTokens, NpgsqlDbType.Integer, cancellationToken);
        await writer.WriteAsync(s.CostUsd, NpgsqlDbType.Numeric, cancellationToken);
        await WriteNullableAsync(s.TraceId, NpgsqlDbType.Text, cancellationToken);
        await WriteNullableAsync(s.SpanId, NpgsqlDbType.Text, cancellationToken);
    }

    /// <summary>Ends the COPY: the rows are committed when this returns.</summary>
    public async Task<ulong> CompleteAsync(CancellationToken cancellationToken) => await writer.CompleteAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await writer.DisposeAsync();
        await connection.DisposeAsync();
    }

    private Task WriteNullableAsync(string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);
}
