using Npgsql;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// A transaction with the caller's project set for row-level security (<c>app.project_id</c>,
/// transaction-local), so every statement in it sees and writes that project's rows only.
/// </summary>
public sealed class ProjectTransaction : IAsyncDisposable
{
    private const string SetProjectSql = "SELECT set_config('app.project_id', $1, true)";

    private ProjectTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    /// <summary>Opens a pooled connection and begins a transaction scoped to <paramref name="projectId"/>.</summary>
    public static async Task<ProjectTransaction> BeginAsync(NpgsqlDataSource dataSource, Guid projectId, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        SlowQueryLog.SetProject(connection, projectId);
        try
        {
            // Npgsql sends BEGIN with the next command, so this costs one round trip.
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(SetProjectSql, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = projectId.ToString() });
            await command.ExecuteNonQueryAsync(cancellationToken);
            return new ProjectTransaction(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    /// <summary>Runs <paramref name="work"/> in a transaction scoped to <paramref name="projectId"/> and commits it.</summary>
    public static async Task<T> RunAsync<T>(
        NpgsqlDataSource dataSource, Guid projectId, Func<ProjectTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var scope = await BeginAsync(dataSource, projectId, cancellationToken);
        var result = await work(scope);
        await scope.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// The project's setting as the first command of an <see cref="NpgsqlBatch"/>: it holds for the rest of the batch,
    /// in the batch's transaction or in the implicit one a batch without a transaction runs in.
    /// </summary>
    public static NpgsqlBatchCommand SetProjectCommand(Guid projectId) => new(SetProjectSql)
    {
        Parameters = { new NpgsqlParameter<string> { TypedValue = projectId.ToString() } },
    };

    /// <summary>A Dapper command in this transaction.</summary>
    public Dapper.CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
        new(sql, parameters, Transaction, cancellationToken: cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
