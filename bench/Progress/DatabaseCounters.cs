using Npgsql;

namespace OptimizationRuns.Bench.Progress;

/// <summary>
/// What PostgreSQL counted for the benchmark database (pg_stat_user_tables, pg_stat_database): row updates of the run
/// table and of the grain-state table, sample rows inserted, transactions committed.
/// </summary>
public sealed record DatabaseCounters(long RunUpdates, long StateUpdates, long SampleInserts, long Commits)
{
    private const string Sql = """
        SELECT
            (SELECT COALESCE(sum(n_tup_upd), 0) FROM pg_stat_user_tables WHERE relname = 'optimization_runs')::bigint,
            (SELECT COALESCE(sum(n_tup_upd), 0) FROM pg_stat_user_tables WHERE relname = 'orleansstorage')::bigint,
            (SELECT COALESCE(sum(n_tup_ins), 0) FROM pg_stat_user_tables WHERE relname LIKE 'optimization_samples%')::bigint,
            (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::bigint
        """;

    public static async Task<DatabaseCounters> ReadAsync(NpgsqlDataSource owner, CancellationToken cancellationToken)
    {
        await using var connection = await owner.OpenConnectionAsync(cancellationToken);
        // A fresh snapshot: the statistics this session read before are not reused.
        await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", connection))
        {
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(Sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new DatabaseCounters(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    public DatabaseCounters Since(DatabaseCounters before) => new(
        RunUpdates - before.RunUpdates, StateUpdates - before.StateUpdates, SampleInserts - before.SampleInserts, Commits - before.Commits);
}
