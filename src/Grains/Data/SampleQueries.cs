using System.Text;
using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Pages of samples: a run's, keyset along its primary key (run, iteration, sample index), or a trace's, along
/// the trace index. Filters come from a fixed set of clauses; values are always parameters.
/// </summary>
public sealed class SampleQueries(NpgsqlDataSource dataSource)
{
    private const string Columns = """
        run_id, iteration, sample_index, example_id, inputs AS inputs_json, expected AS expected_json,
        prediction AS prediction_json, score, success, error, latency_ms, prompt_tokens, completion_tokens, cost_usd,
        trace_id, span_id, created_at
        """;


    /// <summary>Up to <paramref name="take"/> samples of the run; null when the run is not visible in <paramref name="projectId"/>.</summary>
    public async Task<List<SampleView>?> PageAsync(Guid projectId, SampleQuery query, int take, CancellationToken cancellationToken)
    {
        var (sql, parameters) = PageStatement(query, take);
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, genericPlans: true, cancellationToken);
        return await reader.QueryRunAsync<SampleView>(sql, parameters);
    }

    /// <summary>The statement of a page along the primary key: fixed clauses, values as parameters.</summary>
    public static (string Sql, DynamicParameters Parameters) PageStatement(SampleQuery query, int take)
    {
        var parameters = new DynamicParameters();
        parameters.Add("RunId", query.RunId);
        parameters.Add("Take", take);
        var sql = new StringBuilder("SELECT ").Append(Columns).Append(" FROM optimization_samples WHERE run_id = @RunId");
        if (query.Iteration is { } iteration)
        {
            sql.Append(" AND iteration = @Iteration");
            parameters.Add("Iteration", iteration);
        }

        if (query.Kind is { } kind)
        {
            // The kind's iteration numbers (a few, from the iteration key) become an index condition of the sample
            // key, iteration = ANY; PostgreSQL 15 then sorts just those iterations' samples after the cursor.
            sql.Append(" AND iteration = ANY (ARRAY(SELECT iteration FROM optimization_iterations WHERE run_id = @RunId AND kind = @Kind))");
            parameters.Add("Kind", kind.ToName());
        }

        if (query.ExampleId is { } exampleId)
        {
            sql.Append(" AND example_id = @ExampleId");
            parameters.Add("ExampleId", exampleId);
        }

        if (query.ErrorsOnly)
        {
            sql.Append(" AND error IS NOT NULL");
        }

        if (query.Success is { } success)
        {
            sql.Append(" AND success = @Success");
            parameters.Add("Success", success);
        }

        if (query.MinScore is { } minScore)
        {
            sql.Append(" AND score >= @MinScore");
            parameters.Add("MinScore", minScore);
        }

        if (query.MaxScore is { } maxScore)
        {
            sql.Append(" AND score <= @MaxScore");
            parameters.Add("MaxScore", maxScore);
        }

        if (query.After is { } after)
        {
            sql.Append(" AND (iteration, sample_index) > (@AfterIteration, @AfterSampleIndex)");
            parameters.Add("AfterIteration", after.Iteration);
            parameters.Add("AfterSampleIndex", after.SampleIndex);
        }

        sql.Append(" ORDER BY iteration, sample_index LIMIT @Take");
        return (sql.ToString(), parameters);
    }

    // optimization_samples_trace_idx finds the trace's samples; the few of one trace are sorted for the keyset.
    public const string TraceSql = $"""
        SELECT {Columns} FROM optimization_samples
        WHERE trace_id = @TraceId AND (run_id, iteration, sample_index) > (@AfterRunId, @AfterIteration, @AfterSampleIndex)
        ORDER BY run_id, iteration, sample_index
        LIMIT @Take
        """;

    /// <summary>Up to <paramref name="take"/> of the project's samples with the trace id.</summary>
    public async Task<List<SampleView>> TraceAsync(Guid projectId, TraceSampleQuery query, int take, CancellationToken cancellationToken)
    {
        var after = query.After ?? new SamplePosition(Guid.Empty, -1, -1);
        await using var reader = await ProjectReader.OpenAsync(dataSource, projectId, cancellationToken);
        return await reader.QueryAsync<SampleView>(TraceSql, new
        {
            query.TraceId,
            AfterRunId = after.RunId,
            AfterIteration = after.Iteration,
            AfterSampleIndex = after.SampleIndex,
            Take = take,
        });
    }
}
