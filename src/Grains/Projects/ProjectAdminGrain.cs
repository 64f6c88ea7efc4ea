using Microsoft.Extensions.Logging;
using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Projects;

/// <summary>Creates projects and keys; stateless, so it runs wherever it is called.</summary>
[StatelessWorker]
public sealed class ProjectAdminGrain(ProjectStore store, ILogger<ProjectAdminGrain> logger) : Grain, IProjectAdminGrain
{
    /// <inheritdoc />
    public async Task<ProjectInfo> CreateProjectAsync(Guid? id, string name, CancellationToken cancellationToken = default)
    {
        var row = await store.CreateProjectAsync(id ?? Guid.NewGuid(), name, cancellationToken);
        logger.LogInformation("Project {ProjectId} ({Name}) created", row.Id, row.Name);
        return new ProjectInfo(row.Id, row.Name, new DateTimeOffset(DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc)));
    }

    /// <inheritdoc />
    public async Task<NewApiKey> CreateApiKeyAsync(Guid projectId, string? name, CancellationToken cancellationToken = default)
    {
        var key = ApiKeys.Generate();
        var prefix = ApiKeys.PrefixOf(key);
        var id = await store.CreateApiKeyAsync(projectId, name, prefix, ApiKeys.Hash(key), cancellationToken)
            ?? throw new ProjectNotFoundException(projectId);
        logger.LogInformation("API key {KeyId} ({Prefix}…) created for project {ProjectId}", id, prefix, projectId);
        return new NewApiKey(id, key, prefix);
    }

    /// <inheritdoc />
    public async Task<bool> RevokeApiKeyAsync(Guid projectId, Guid keyId, CancellationToken cancellationToken = default)
    {
        var revoked = await store.RevokeApiKeyAsync(projectId, keyId, cancellationToken);
        if (revoked)
        {
            logger.LogInformation("API key {KeyId} of project {ProjectId} revoked", keyId, projectId);
        }

        return revoked;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ProjectListing>> ListProjectsAsync(int limit, ProjectPosition? after, CancellationToken cancellationToken = default) =>
        store.ListProjectsAsync(limit, after, cancellationToken);

    /// <inheritdoc />
    public Task<ProjectListing?> GetProjectAsync(Guid projectId, CancellationToken cancellationToken = default) =>
        store.GetProjectAsync(projectId, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(Guid projectId, CancellationToken cancellationToken = default)
    {
        var keys = await store.ListApiKeysAsync(projectId, cancellationToken);
        if (keys.Count == 0 && await store.GetProjectAsync(projectId, cancellationToken) is null)
        {
            throw new ProjectNotFoundException(projectId);
        }

        return keys;
    }
}
