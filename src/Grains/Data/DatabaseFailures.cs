using System.Net.Sockets;
using System.Text.RegularExpressions;
using Npgsql;
using OptimizationRuns.Grains.Errors;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Tells a database failure that a retry may cure (the server is down, restarting, overloaded, or the transaction
/// lost a race) from one it will not (the data itself is refused), and turns either into the grains' own
/// serializable errors, so no driver exception crosses a grain boundary.
/// </summary>
public static partial class DatabaseFailures
{
    /// <summary>What callers are told to wait before retrying when the database is unavailable.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(2);

    /// <summary>Whether <paramref name="exception"/> comes from the database or the connection to it.</summary>
    public static bool IsDatabaseFailure(Exception exception) => exception switch
    {
        NpgsqlException or SocketException => true,
        TimeoutException or OperationCanceledException or IOException when exception.InnerException is { } inner => IsDatabaseFailure(inner),
        _ => exception.InnerException is { } cause && IsDatabaseFailure(cause),
    };

    /// <summary>Whether the same statements may succeed later: connection lost, shutdown, timeout, serialization, deadlock, too many connections.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => IsTransientState(postgres.SqlState),
        // Npgsql's own errors carry no SQL state: a refused, broken or timed-out connection, an exhausted pool.
        NpgsqlException => true,
        SocketException or TimeoutException or IOException => true,
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };

    /// <summary>The grains' own error for a database failure: unavailable (retry) or rejected (do not).</summary>
    public static Exception ToGrainError(Exception exception) => IsTransient(exception)
        ? new StorageUnavailableException(RetryAfter, "The database is unavailable; nothing was written. Retry after a pause.")
        : exception is PostgresException postgres
            ? new WriteRejectedException(Describe(postgres), ConstraintOf(postgres) ?? postgres.ColumnName)
            : new WriteRejectedException("The database refused the request: " + exception.Message);

    private static bool IsTransientState(string state) =>
        state.StartsWith("08", StringComparison.Ordinal)                     // connection exception
        || state.StartsWith("53", StringComparison.Ordinal)                  // insufficient resources, too many connections
        || state is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.LockNotAvailable
            or PostgresErrorCodes.ReadOnlySqlTransaction;

    private static string Describe(PostgresException postgres)
    {
        var constraint = ConstraintOf(postgres);
        var where = constraint is not null ? $" (constraint {constraint})"
            : postgres.ColumnName is { } column ? $" (column {column})" : "";
        var text = constraint is not null && postgres.ConstraintName is { } own ? postgres.MessageText.Replace(own, constraint) : postgres.MessageText;
        return $"The database refused the data{where}: {text}";
    }

    // A sample partition's primary key is named after the partition (optimization_samples_p06_pkey, migration 0014):
    // callers are told the table's key, the one the schema and the docs name, not where a run's hash put its rows.
    private static string? ConstraintOf(PostgresException postgres) =>
        postgres.ConstraintName is { } name && SamplePartitionKey().IsMatch(name) ? "optimization_samples_pk" : postgres.ConstraintName;

    [GeneratedRegex(@"^optimization_samples_p\d+_pkey$")]
    private static partial Regex SamplePartitionKey();
}
