using Npgsql;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Schema;

/// <summary>Work done as the service role, under RLS, in one transaction with the project set as the silo sets it.</summary>
internal static class Service
{
    /// <summary>Runs <paramref name="work"/> in a transaction for <paramref name="projectId"/> (none when null) and commits it.</summary>
    public static async Task<T> InProjectAsync<T>(Guid? projectId, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work)
    {
        await using var connection = await TestDatabase.OpenServiceAsync();
        await using var transaction = await TestDatabase.BeginProjectTransactionAsync(connection, projectId);
        var result = await work(connection, transaction);
        await transaction.CommitAsync();
        return result;
    }
}
