using Microsoft.Extensions.Logging;
using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Projects;

/// <summary>
/// Key → project with a cache of a few seconds in each activation: most requests cost no database
/// round trip, and a revoked key stops working within <see cref="CacheFor"/>.
/// </summary>
/// <remarks>
/// While the database is unavailable, a key this activation found valid within <see cref="KeepKnownKeysFor"/> stays
/// valid: no revocation can be committed meanwhile, and runs keep answering what they hold in memory (live state,
/// events). Any other key fails with the database error (503), never as unknown (401).
/// </remarks>
[StatelessWorker]
public sealed partial class ApiKeyGrain(ProjectStore store, ILogger<ApiKeyGrain> logger) : Grain, IApiKeyGrain
{
    /// <summary>How long an answer (either way) is reused.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(3);

    /// <summary>How long after its last check a valid key is still accepted while the database is unavailable.</summary>
    public static readonly TimeSpan KeepKnownKeysFor = TimeSpan.FromMinutes(10);

    private const int MaxEntries = 10_000;
    private readonly Dictionary<string, (Guid? ProjectId, DateTime CheckedAt)> _cache = [];

    /// <inheritdoc />
    public async Task<KeyCheck> AuthenticateAsync(byte[] keyHash, CancellationToken cancellationToken = default)
    {
        var cacheKey = Convert.ToHexString(keyHash);
        var now = DateTime.UtcNow;
        var cached = _cache.TryGetValue(cacheKey, out var hit);
        if (cached && now - hit.CheckedAt < CacheFor)
        {
            return new KeyCheck(hit.ProjectId, CacheFor - (now - hit.CheckedAt));
        }

        Guid? projectId;
        try
        {
            projectId = await store.AuthenticateAsync(keyHash, cancellationToken);
        }
        catch (Exception ex) when (cached && hit.ProjectId is not null && now - hit.CheckedAt < KeepKnownKeysFor
            && DatabaseFailures.IsDatabaseFailure(ex) && DatabaseFailures.IsTransient(ex))
        {
            LogKeptKnownKey(logger, hit.ProjectId.Value, ex.Message);
            // Not fresh: the next request asks again, and finds the database back as soon as it is.
            return new KeyCheck(hit.ProjectId, TimeSpan.Zero);
        }

        if (_cache.Count >= MaxEntries)
        {
            // Bounded: a flood of random keys must not grow the cache.
            _cache.Clear();
        }

        _cache[cacheKey] = (projectId, now);
        return new KeyCheck(projectId, CacheFor);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database is unavailable ({Reason}); a key of project {ProjectId} checked recently stays valid")]
    private static partial void LogKeptKnownKey(ILogger logger, Guid projectId, string reason);
}
