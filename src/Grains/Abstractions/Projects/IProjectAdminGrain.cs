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

    /// <summary>Up to <paramref name="limit"/> projects newest first, after <paramref name="after"/> (a page's last one).</summary>
    Task<IReadOnlyList<ProjectListing>> ListProjectsAsync(int limit, ProjectPosition? after, CancellationToken cancellationToken = default);

    /// <summary>The project; null when there is none.</summary>
    Task<ProjectListing?> GetProjectAsync(Guid projectId, CancellationToken cancellationToken = default);

    /// <summary>The project's keys, oldest first, revoked ones included (never the key or its hash).</summary>
    /// <exception cref="ProjectNotFoundException">No such project.</exception>
    Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(Guid projectId, CancellationToken cancellationToken = default);
}

/// <summary>Resolves API keys to projects, with a short-lived cache in each silo.</summary>
public interface IApiKeyGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The project of the key whose SHA-256 is <paramref name="keyHash"/> (null for an unknown or revoked key), and
    /// how much longer that answer is fresh: a caller may reuse it that long, and a revocation is seen when it ends.
    /// </summary>
    Task<KeyCheck> AuthenticateAsync(byte[] keyHash, CancellationToken cancellationToken = default);
}

/// <summary>What a key check found, and how much longer the answer may be reused.</summary>
[GenerateSerializer, Immutable, Alias("projects.KeyCheck")]
public sealed record KeyCheck([property: Id(0)] Guid? ProjectId, [property: Id(1)] TimeSpan FreshFor);

/// <summary>A project.</summary>
[GenerateSerializer, Immutable, Alias("projects.ProjectInfo")]
public sealed record ProjectInfo(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>A project as the admin lists it, with how many keys it has and how many of them are not revoked.</summary>
[GenerateSerializer, Immutable, Alias("projects.ProjectListing")]
public sealed record ProjectListing
{
    [Id(0)] public required Guid Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(3)] public long ApiKeys { get; init; }
    [Id(4)] public long ActiveApiKeys { get; init; }
}

/// <summary>Where a page of projects ended: its last project's creation time and id.</summary>
[GenerateSerializer, Immutable, Alias("projects.ProjectPosition")]
public sealed record ProjectPosition([property: Id(0)] DateTimeOffset CreatedAt, [property: Id(1)] Guid Id);

/// <summary>An API key as listed: what tells it apart and when it was used, never the key itself.</summary>
[GenerateSerializer, Immutable, Alias("projects.ApiKeyInfo")]
public sealed record ApiKeyInfo
{
    [Id(0)] public required Guid Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required string Prefix { get; init; }
    [Id(3)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(4)] public DateTimeOffset? LastUsedAt { get; init; }
    [Id(5)] public DateTimeOffset? RevokedAt { get; init; }
}

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
