using System.Net.Sockets;
using Npgsql;
using OptimizationRuns.Grains.Errors;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Tells a database failure that a retry may cure (the server is down, restarting, overloaded, or the transaction
/// lost a race) from one it will not (the data itself is refused), and turns either into the grains' own
/// serializable errors, so no driver exception crosses a grain boundary.
/// </summary>
public static class DatabaseFailures
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
            ? new WriteRejectedException(Describe(postgres), postgres.ConstraintName ?? postgres.ColumnName)
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
        var where = postgres.ConstraintName is { } constraint ? $" (constraint {constraint})"
            : postgres.ColumnName is { } column ? $" (column {column})" : "";
        return $"The database refused the data{where}: {postgres.MessageText}";
    }
}
