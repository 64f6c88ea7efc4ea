using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Data;

namespace OptimizationRuns.Grains.Maintenance;

/// <summary>The retention policy and the expired runs, through migration 0010's admin-path functions.</summary>
public sealed class RetentionStore(NpgsqlDataSource dataSource)
{
    private const string GetSql = "SELECT retention_days FROM project_config WHERE id = @ProjectId";

    private const string SetSql = "SELECT admin_set_project_retention(@ProjectId, @RetentionDays)";

    private const string ExpiredSql = "SELECT project_id, run_id, ended_at, samples FROM retention_expired_runs(@Limit)";

    /// <summary>A finished run past its project's retention.</summary>
    public sealed record ExpiredRun(Guid ProjectId, Guid RunId, DateTime EndedAt, long Samples);

    private sealed record Policy(int? RetentionDays);

    /// <summary>Whether the project exists, and its retention (read under the project, as RLS lets a project see only itself).</summary>
    public async Task<(bool Found, int? RetentionDays)> GetAsync(Guid projectId, CancellationToken cancellationToken)
    {
        var policy = await ProjectReader.RunAsync(dataSource, projectId, reader =>
            reader.QuerySingleOrDefaultAsync<Policy>(GetSql, new { ProjectId = projectId }), cancellationToken);
        return (policy is not null, policy?.RetentionDays);
    }

    /// <summary>Sets the project's retention; false when there is no such project.</summary>
    public async Task<bool> SetAsync(Guid projectId, int? retentionDays, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(SetSql,
            new { ProjectId = projectId, RetentionDays = retentionDays }, cancellationToken: cancellationToken));
    }

    /// <summary>Up to <paramref name="limit"/> expired runs, the longest finished first.</summary>
    public async Task<IReadOnlyList<ExpiredRun>> ExpiredAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<ExpiredRun>(
            new CommandDefinition(ExpiredSql, new { Limit = limit }, cancellationToken: cancellationToken))).ToList();
    }
}
