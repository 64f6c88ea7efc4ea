using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Projects;

/// <summary>
/// Key → project with a cache of a few seconds in each activation: most requests cost no database
/// round trip, and a revoked key stops working within <see cref="CacheFor"/>.
/// </summary>
[StatelessWorker]
public sealed class ApiKeyGrain(ProjectStore store) : Grain, IApiKeyGrain
{
    /// <summary>How long an answer (either way) is reused.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(3);

    private const int MaxEntries = 10_000;
    private readonly Dictionary<string, (Guid? ProjectId, DateTime Until)> _cache = [];

    /// <inheritdoc />
    public async Task<Guid?> AuthenticateAsync(byte[] keyHash, CancellationToken cancellationToken = default)
    {
        var cacheKey = Convert.ToHexString(keyHash);
        var now = DateTime.UtcNow;
        if (_cache.TryGetValue(cacheKey, out var hit) && hit.Until > now)
        {
            return hit.ProjectId;
        }

        var projectId = await store.AuthenticateAsync(keyHash, cancellationToken);
        if (_cache.Count >= MaxEntries)
        {
            // Bounded: a flood of random keys must not grow the cache.
            _cache.Clear();
        }

        _cache[cacheKey] = (projectId, now + CacheFor);
        return projectId;
    }
}
