using Npgsql;
using NpgsqlTypes;
using static OptimizationRuns.Grains.Data.BatchParameters;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The live progress of many runs, written in one transaction: what run grains accepted without a commit of their own
/// (<see cref="Runs.RunProgressWriter"/>). A row is written only while its run is running, and only with a heartbeat
/// newer than the row's, so it never overwrites what the run's own commit wrote since (every commit writes the
/// heartbeat). Each project's rows go under that project's setting, so row-level security holds as for any write.
/// </summary>
public sealed class ProgressStore(NpgsqlDataSource dataSource)
{
    // Bounds one statement's arrays; a flush of more rows sends several statements in the same transaction.
    private const int RowsPerStatement = 1_000;

    private const string WriteSql = """
        UPDATE optimization_runs AS r SET
            phase = COALESCE(p.phase, r.phase),
            message = COALESCE(p.message, r.message),
            current_iteration = GREATEST(r.current_iteration, p.current_iteration),
            total_iterations = COALESCE(p.total_iterations, r.total_iterations),
            last_heartbeat_at = p.heartbeat_at
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::integer[], $5::integer[], $6::timestamptz[])
            AS p(id, phase, message, current_iteration, total_iterations, heartbeat_at)
        WHERE r.id = p.id AND r.status = 'running'
          AND (r.last_heartbeat_at IS NULL OR r.last_heartbeat_at < p.heartbeat_at)
        """;

    /// <summary>Writes <paramref name="rows"/> in one transaction; returns how many run rows it changed.</summary>
    public async Task<int> WriteAsync(IReadOnlyCollection<RunProgressRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        // A batch without a transaction runs in one implicit transaction: all of it is written or none.
        await using var batch = dataSource.CreateBatch();
        var updates = new List<NpgsqlBatchCommand>();
        foreach (var project in rows.GroupBy(r => r.ProjectId))
        {
            batch.BatchCommands.Add(ProjectTransaction.SetProjectCommand(project.Key));
            foreach (var chunk in project.Chunk(RowsPerStatement))
            {
                var update = Update(chunk);
                updates.Add(update);
                batch.BatchCommands.Add(update);
            }
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        return updates.Sum(u => u.RecordsAffected);
    }

    private static NpgsqlBatchCommand Update(RunProgressRow[] rows) => Command(WriteSql,
        Value(rows.Select(r => r.RunId).ToArray()),
        Array(rows.Select(r => r.Phase).ToArray(), NpgsqlDbType.Text),
        Array(rows.Select(r => r.Message).ToArray(), NpgsqlDbType.Text),
        Array(rows.Select(r => r.CurrentIteration).ToArray(), NpgsqlDbType.Integer),
        Array(rows.Select(r => r.TotalIterations).ToArray(), NpgsqlDbType.Integer),
        Array(rows.Select(r => r.HeartbeatAt.ToUniversalTime()).ToArray(), NpgsqlDbType.TimestampTz));
}

/// <summary>A run's live progress as its grain shows it, and the heartbeat it came with.</summary>
public sealed record RunProgressRow(
    Guid ProjectId, Guid RunId, string? Phase, string? Message, int? CurrentIteration, int? TotalIterations, DateTimeOffset HeartbeatAt);
