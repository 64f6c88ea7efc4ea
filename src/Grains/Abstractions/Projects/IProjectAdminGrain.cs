namespace OptimizationRuns.Grains.Projects;

/// <summary>The admin path: projects and their API keys. Only the gateway's admin endpoints call it.</summary>
public interface IProjectAdminGrain : IGrainWithIntegerKey
{
    /// <summary>Creates a project; with an id that exists already, answers that project (idempotent).</summary>
    Task<ProjectInfo> CreateProjectAsync(Guid? id, string name, CancellationToken cancellationToken = default);

    /// <summary>Creates an API key for the project; the key itself is in this answer only.</summary>
    Task<NewApiKey> CreateApiKeyAsync(Guid projectId, string? name, CancellationToken cancellationToken = default);

    /// <summary>Revokes a key of the project; false when the project has no such key.</summary>
    Task<bool> RevokeApiKeyAsync(Guid projectId, Guid keyId, CancellationToken cancellationToken = default);
}

/// <summary>Resolves API keys to projects, with a short-lived cache in each silo.</summary>
public interface IApiKeyGrain : IGrainWithIntegerKey
{
    /// <summary>The project of the key whose SHA-256 is <paramref name="keyHash"/>; null for an unknown or revoked key.</summary>
    Task<Guid?> AuthenticateAsync(byte[] keyHash, CancellationToken cancellationToken = default);
}

/// <summary>A project.</summary>
[GenerateSerializer, Immutable, Alias("projects.ProjectInfo")]
public sealed record ProjectInfo(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>A new API key: <see cref="Key"/> is shown once and stored only as a hash.</summary>
[GenerateSerializer, Immutable, Alias("projects.NewApiKey")]
public sealed record NewApiKey(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string Key,
    [property: Id(2)] string Prefix);

/// <summary>No such project.</summary>
[GenerateSerializer, Alias("projects.ProjectNotFoundException")]
public sealed class ProjectNotFoundException(Guid projectId) : Exception($"Project {projectId} was not found.")
{
    [Id(0)] public Guid ProjectId { get; } = projectId;
}
