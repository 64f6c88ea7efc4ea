using Dapper;
using Npgsql;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Reads under the caller's project for row-level security, one round trip per statement. Each statement is sent
/// after <c>set_config('app.project_id', …, true)</c> in the same command; Npgsql ends a command with one Sync, so
/// PostgreSQL runs the two as one implicit transaction: the setting holds for the statement and ends with it. A
/// <see cref="ProjectTransaction"/> costs two more round trips per read (BEGIN with the setting, then COMMIT), each
/// a hand-over between the silo and a backend. Isolation is what the transactions had: read committed, where every
/// statement sees its own snapshot. Writes, and reads that need one snapshot across statements, keep a transaction.
/// </summary>
public sealed class ProjectReader : IAsyncDisposable
{
    /// <summary>What precedes every statement; <see cref="SlowQueryLog.StatementName"/> names the statement after it.</summary>
    public const string SetProjectSql = "SELECT set_config('app.project_id', @ReaderProjectId, true);\n";

    /// <summary>
    /// <see cref="SetProjectSql"/> for a reader on generic plans (<see cref="OpenAsync(NpgsqlDataSource, Guid, bool, CancellationToken)"/>): the statements after it in
    /// the command run on their prepared statement's generic plan.
    /// </summary>
    public const string SetProjectGenericPlansSql =
        "SELECT set_config('app.project_id', @ReaderProjectId, true), set_config('plan_cache_mode', 'force_generic_plan', true);\n";

    /// <summary>Whether the run <c>@RunId</c> is visible, so an empty answer about another project's run is a 404, not [].</summary>
    public const string RunExistsSql = "SELECT EXISTS (SELECT 1 FROM optimization_runs WHERE id = @RunId);\n";

    private readonly NpgsqlConnection _connection;
    private readonly Guid _projectId;
    private readonly string _setProjectSql;
    private readonly CancellationToken _cancellationToken;

    private ProjectReader(NpgsqlConnection connection, Guid projectId, bool genericPlans, CancellationToken cancellationToken)
    {
        _connection = connection;
        _projectId = projectId;
        _setProjectSql = genericPlans ? SetProjectGenericPlansSql : SetProjectSql;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Opens a pooled connection for reads scoped to <paramref name="projectId"/>, on PostgreSQL's choice of plans.</summary>
    public static Task<ProjectReader> OpenAsync(NpgsqlDataSource dataSource, Guid projectId, CancellationToken cancellationToken) =>
        OpenAsync(dataSource, projectId, genericPlans: false, cancellationToken);

    /// <summary>
    /// Opens a pooled connection for reads scoped to <paramref name="projectId"/>. With <paramref name="genericPlans"/>
    /// its statements run on the generic plan of their prepared statement (Npgsql prepares a statement on its second
    /// use): PostgreSQL otherwise plans such a statement again on every call when a custom plan is estimated cheaper,
    /// which for the run list's and the samples page's statements cost 0.17–0.32 ms of planning against 0.2–0.35 of
    /// execution (BENCHMARKS.md, "Reads on generic plans"). Only for statements whose plan is the same for every value
    /// (an index range of one project or run, a key, an order); tested in ReadQueryPlanTests.
    /// </summary>
    public static async Task<ProjectReader> OpenAsync(
        NpgsqlDataSource dataSource, Guid projectId, bool genericPlans, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        SlowQueryLog.SetProject(connection, projectId);
        return new ProjectReader(connection, projectId, genericPlans, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> (one or more statements) and returns its result sets, the project's setting read
    /// past. <paramref name="genericPlan"/> true runs this command on generic plans whatever the reader's choice.
    /// </summary>
    public async Task<SqlMapper.GridReader> ReadMultipleAsync(string sql, object? parameters, bool genericPlan = false)
    {
        var all = new DynamicParameters(parameters);
        all.Add("ReaderProjectId", _projectId.ToString());
        var results = await _connection.QueryMultipleAsync(
            new CommandDefinition((genericPlan ? SetProjectGenericPlansSql : _setProjectSql) + sql, all, cancellationToken: _cancellationToken));
        try
        {
            await results.ReadSingleAsync<string>();
            return results;
        }
        catch
        {
            await results.DisposeAsync();
            throw;
        }
    }

    /// <summary>The rows of <paramref name="sql"/>; on generic plans with <paramref name="genericPlan"/>.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, object? parameters, bool genericPlan = false)
    {
        await using var results = await ReadMultipleAsync(sql, parameters, genericPlan);
        return (await results.ReadAsync<T>()).AsList();
    }

    /// <summary>The rows of <paramref name="sql"/> about the run <c>@RunId</c>; null when that run is not visible.</summary>
    public async Task<List<T>?> QueryRunAsync<T>(string sql, object parameters)
    {
        await using var results = await ReadMultipleAsync(RunExistsSql + sql, parameters);
        return await results.ReadSingleAsync<bool>() ? (await results.ReadAsync<T>()).AsList() : null;
    }

    /// <summary>The one row of <paramref name="sql"/>.</summary>
    public async Task<T> QuerySingleAsync<T>(string sql, object? parameters)
    {
        await using var results = await ReadMultipleAsync(sql, parameters);
        return await results.ReadSingleAsync<T>();
    }

    /// <summary>The one row of <paramref name="sql"/>, or the default when there is none.</summary>
    public async Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? parameters)
    {
        await using var results = await ReadMultipleAsync(sql, parameters);
        return await results.ReadSingleOrDefaultAsync<T>();
    }

    /// <summary>
    /// A batch on this reader's connection whose first command sets the project (its result comes first), for reads
    /// that take the data reader itself.
    /// </summary>
    public NpgsqlBatch Batch() => new(_connection) { BatchCommands = { ProjectTransaction.SetProjectCommand(_projectId) } };

    /// <summary>Opens a reader for <paramref name="projectId"/>, runs <paramref name="read"/> and closes it.</summary>
    public static async Task<T> RunAsync<T>(
        NpgsqlDataSource dataSource, Guid projectId, Func<ProjectReader, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var reader = await OpenAsync(dataSource, projectId, cancellationToken);
        return await read(reader);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
