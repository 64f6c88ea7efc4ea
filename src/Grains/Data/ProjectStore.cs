using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Projects;

namespace OptimizationRuns.Grains.Data;

/// <summary>Projects and API keys, through the admin-path functions of migration 0001 (SECURITY DEFINER).</summary>
public sealed class ProjectStore(NpgsqlDataSource dataSource)
{
    private const string CreateProjectSql = "SELECT id, name, created_at FROM admin_create_project(@Id, @Name)";

    private const string CreateKeySql = "SELECT admin_create_api_key(@ProjectId, @Name, @Prefix, @KeyHash)";

    private const string RevokeKeySql = "SELECT admin_revoke_api_key(@ProjectId, @KeyId)";

    private const string ListProjectsSql = """
        SELECT id, name, created_at, api_keys, active_api_keys FROM admin_list_projects(@Limit, @AfterCreatedAt, @AfterId, @Id)
        """;

    private const string ListKeysSql = "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM admin_list_api_keys(@ProjectId)";

    private const string AuthenticateSql = "SELECT project_id FROM authenticate_api_key(@KeyHash)";

    public sealed class ProjectRow
    {
        public Guid Id { get; set; }
        public string Name { get; set; } = "";
        public DateTime CreatedAt { get; set; }
    }

    public async Task<ProjectRow> CreateProjectAsync(Guid id, string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<ProjectRow>(
            new CommandDefinition(CreateProjectSql, new { Id = id, Name = name }, cancellationToken: cancellationToken));
    }

    /// <summary>The new key's id; null when the project does not exist.</summary>
    public async Task<Guid?> CreateApiKeyAsync(Guid projectId, string? name, string prefix, byte[] keyHash, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            return await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(CreateKeySql,
                new { ProjectId = projectId, Name = name, Prefix = prefix, KeyHash = keyHash }, cancellationToken: cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            return null;
        }
    }

    public async Task<bool> RevokeApiKeyAsync(Guid projectId, Guid keyId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(
            new CommandDefinition(RevokeKeySql, new { ProjectId = projectId, KeyId = keyId }, cancellationToken: cancellationToken));
    }

    /// <summary>A page of projects, newest first, after the one at <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<ProjectListing>> ListProjectsAsync(int limit, ProjectPosition? after, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ProjectListing>(new CommandDefinition(ListProjectsSql,
            new { Limit = limit, AfterCreatedAt = after?.CreatedAt, AfterId = after?.Id, Id = (Guid?)null }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<ProjectListing?> GetProjectAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<ProjectListing>(new CommandDefinition(ListProjectsSql,
            new { Limit = 1, AfterCreatedAt = (DateTimeOffset?)null, AfterId = (Guid?)null, Id = (Guid?)id }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(Guid projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ApiKeyInfo>(
            new CommandDefinition(ListKeysSql, new { ProjectId = projectId }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<Guid?> AuthenticateAsync(byte[] keyHash, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<Guid?>(
            new CommandDefinition(AuthenticateSql, new { KeyHash = keyHash }, cancellationToken: cancellationToken));
    }
}
