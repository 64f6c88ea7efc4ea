using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using OptimizationRuns.Grains.Projects;

namespace OptimizationRuns.Gateway.Auth;

/// <summary>
/// What a presented key makes its holder: an admin, a caller of its project, or nothing. Every way a key arrives
/// (the bearer header, the dashboard's session cookie) is checked here.
/// </summary>
/// <remarks>
/// A project key is resolved by <see cref="IApiKeyGrain"/>; a valid key's answer is reused by this gateway for as
/// long as the silo says it is fresh (ApiKeyGrain.CacheFor from the silo's own check), so a request
/// makes one grain call (its own) instead of two, and a revoked key still stops within that window. Unknown keys are
/// not remembered here: a flood of them stays bounded by the silo's cache, and a key just created works at once.
/// </remarks>
public sealed class ApiKeyCheck(IClusterClient cluster, IConfiguration configuration)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, (Guid ProjectId, long FreshUntil)> _valid = new();

    /// <summary>Authenticates <paramref name="key"/> as <paramref name="scheme"/>.</summary>
    public async Task<AuthenticateResult> AuthenticateAsync(string key, string scheme, CancellationToken cancellationToken)
    {
        if (key.Length is 0 or > 200)
        {
            return AuthenticateResult.Fail("Malformed API key.");
        }

        var hash = ApiKeys.Hash(key);
        if (configuration[Callers.AdminKeySetting] is { Length: > 0 } adminKey
            && CryptographicOperations.FixedTimeEquals(hash, ApiKeys.Hash(adminKey)))
        {
            return Success(scheme, new Claim(ClaimTypes.Role, Callers.AdminRole));
        }

        var projectId = await ProjectOfAsync(hash, cancellationToken);
        return projectId is { } id
            ? Success(scheme, new Claim(Callers.ProjectClaim, id.ToString()))
            : AuthenticateResult.Fail("Unknown or revoked API key.");
    }

    private async Task<Guid?> ProjectOfAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var cacheKey = Convert.ToHexString(hash);
        var now = Stopwatch.GetTimestamp();
        if (_valid.TryGetValue(cacheKey, out var known) && now < known.FreshUntil)
        {
            return known.ProjectId;
        }

        var check = await cluster.GetGrain<IApiKeyGrain>(0).AuthenticateAsync(hash, cancellationToken);
        if (check.ProjectId is { } projectId && check.FreshFor > TimeSpan.Zero)
        {
            if (_valid.Count >= MaxEntries)
            {
                _valid.Clear();
            }

            _valid[cacheKey] = (projectId, now + (long)(check.FreshFor.TotalSeconds * Stopwatch.Frequency));
        }
        else
        {
            _valid.TryRemove(cacheKey, out _);
        }

        return check.ProjectId;
    }

    private static AuthenticateResult Success(string scheme, Claim claim) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([claim], scheme)), scheme));
}
