using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Grains.Data;

// The pages of a run's export: keyset along each table's primary key, one short transaction per page, so an export
// holds no connection (and no snapshot) while its reader is slow, and sees rows committed while it runs only ahead of
// its position.
public sealed partial class RunAnalysisQueries
{
    /// <summary>A page of the run's iterations after <c>@AfterIteration</c>, along the primary key.</summary>
    public const string IterationPageSql = $"""
        SELECT {IterationQueries.Columns} FROM optimization_iterations
        WHERE run_id = @RunId AND iteration > @AfterIteration
        ORDER BY iteration
        LIMIT @Take
        """;

    /// <summary>A page of the run's samples after (<c>$3</c>, <c>$4</c>) along the primary key: run <c>$1</c>, at most <c>$2</c> rows.</summary>
    public const string SamplePageSql = """
        SELECT run_id, iteration, sample_index, example_id, inputs, expected, prediction, score, success, error, latency_ms,
               prompt_tokens, completion_tokens, cost_usd, trace_id, span_id, created_at
        FROM optimization_samples
        WHERE run_id = $1 AND (iteration, sample_index) > ($3, $4)
        ORDER BY iteration, sample_index
        LIMIT $2
        """;

    // A candidate's place in the export's order, as a row: predictors as GET …/candidates orders them (numeric ids by
    // value: fewer significant digits first, then by their digits; then names in byte order), instructions before demo
    // sets, then by index. Numbers of up to 18 digits, which a long holds, as CandidateTable compares them.
    private static string CandidateOrder(string predictor, string kind, string index) => $$"""
        {{predictor}} !~ '^[0-9]{1,18}$',
        CASE WHEN {{predictor}} ~ '^[0-9]{1,18}$' THEN length(ltrim({{predictor}}, '0')) ELSE 0 END,
        {{predictor}} COLLATE "C", {{kind}} = 'demos', {{index}}
        """;

    /// <summary>
    /// A page of the run's candidates after (<c>@AfterPredictor</c>, <c>@AfterKind</c>, <c>@AfterIndex</c>) in the
    /// export's order: the rows of <see cref="CandidateStore.CandidatesSql"/> (recorded or chosen, with their aggregates).
    /// Every page aggregates the run's iterations again: a run has tens of candidates and iterations, a page is most often
    /// the whole export, and the statistics stay those of one statement.
    /// </summary>
    public static readonly string CandidatePageSql = $"""
        SELECT c.* FROM ({CandidateStore.CandidatesSql}) c
        WHERE @AfterPredictor::text IS NULL
           OR ({CandidateOrder("c.predictor", "c.kind", "c.idx")}) > ({CandidateOrder("@AfterPredictor::text", "@AfterKind::text", "@AfterIndex::integer")})
        ORDER BY {CandidateOrder("c.predictor", "c.kind", "c.idx")}
        LIMIT @Take
        """;

    private const string RunVisibleSql = "SELECT EXISTS (SELECT 1 FROM optimization_runs WHERE id = $1)";

    /// <summary>
    /// Up to <paramref name="take"/> samples of the run after <paramref name="after"/> (from the start when null);
    /// null when the run is not visible (checked on the first page only: a later page of a run deleted meanwhile is
    /// empty, which ends the export). Read with the data reader rather than Dapper: text arrives as UTF-8 bytes.
    /// </summary>
    /// <remarks>
    /// One round trip a page: the project, the check and the page go as one batch, which PostgreSQL runs as one
    /// implicit transaction (a single Sync ends it), so the transaction-local project setting covers the page and
    /// ends with it, as with <see cref="ProjectReader"/> (which Dapper's reads go through).
    /// </remarks>
    public async Task<List<SampleExportRow>?> SamplePageAsync(
        Guid projectId, Guid runId, SamplePosition? after, int take, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        await using var batch = scope.Batch();
        var first = after is null;
        if (first)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(RunVisibleSql) { Parameters = { new NpgsqlParameter<Guid> { TypedValue = runId } } });
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand(SamplePageSql)
        {
            Parameters =
            {
                new NpgsqlParameter<Guid> { TypedValue = runId },
                new NpgsqlParameter<int> { TypedValue = take },
                new NpgsqlParameter<int> { TypedValue = after?.Iteration ?? -1 },
                new NpgsqlParameter<int> { TypedValue = after?.SampleIndex ?? -1 },
            },
        });

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        if (first)
        {
            await reader.ReadAsync(cancellationToken);
            if (!reader.GetBoolean(0))
            {
                return null;
            }

            await reader.NextResultAsync(cancellationToken);
        }

        var rows = new List<SampleExportRow>(take);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new SampleExportRow
            {
                RunId = reader.GetGuid(0),
                Iteration = reader.GetInt32(1),
                SampleIndex = reader.GetInt32(2),
                ExampleId = Utf8(reader, 3),
                Inputs = Utf8(reader, 4),
                Expected = Utf8(reader, 5),
                Prediction = Utf8(reader, 6),
                Score = reader.IsDBNull(7) ? null : reader.GetDecimal(7),
                Success = reader.GetBoolean(8),
                Error = Utf8(reader, 9),
                LatencyMs = reader.IsDBNull(10) ? null : reader.GetDouble(10),
                PromptTokens = reader.GetInt32(11),
                CompletionTokens = reader.GetInt32(12),
                CostUsd = reader.GetDecimal(13),
                TraceId = Utf8(reader, 14),
                SpanId = Utf8(reader, 15),
                CreatedAt = new DateTimeOffset(reader.GetFieldValue<DateTime>(16), TimeSpan.Zero),
            });
        }

        return rows;
    }

    // text and jsonb as the UTF-8 of their text (Npgsql drops jsonb's version byte).
    private static byte[]? Utf8(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<byte[]>(ordinal);

    /// <summary>Up to <paramref name="take"/> iterations of the run after <paramref name="afterIteration"/> (-1: from the start); null when the run is not visible.</summary>
    public async Task<List<IterationView>?> IterationPageAsync(
        Guid projectId, Guid runId, int afterIteration, int take, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(new { RunId = runId, AfterIteration = afterIteration, Take = take });
        return await PageAsync<IterationView>(projectId, afterIteration < 0, IterationPageSql, parameters, cancellationToken);
    }

    /// <summary>Up to <paramref name="take"/> candidates of the run after <paramref name="after"/> (from the start when null); null when the run is not visible.</summary>
    public async Task<List<CandidateRow>?> CandidatePageAsync(
        Guid projectId, Guid runId, CandidateKey? after, int take, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(new
        {
            RunId = runId, AfterPredictor = after?.Predictor, AfterKind = after?.Kind, AfterIndex = after?.Idx, Take = take,
        });
        return await PageAsync<CandidateRow>(projectId, after is null, CandidatePageSql, parameters, cancellationToken);
    }

    private async Task<List<T>?> PageAsync<T>(
        Guid projectId, bool first, string sql, DynamicParameters parameters, CancellationToken cancellationToken)
    {
        // Only the first page asks whether the run is visible: a later one follows a page that said so.
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return first ? await reader.QueryRunAsync<T>(sql, parameters) : await reader.QueryAsync<T>(sql, parameters);
    }
}
