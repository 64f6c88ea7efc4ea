using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OptimizationRuns.Gateway.Errors;
using OptimizationRuns.Grains.Projects;

namespace OptimizationRuns.Gateway.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>. The admin key (configuration <c>OPTRUNS_ADMIN_KEY</c>) makes an
/// admin; a project key makes a caller of that project. Keys are compared as SHA-256 hashes in
/// constant time; project keys are resolved by <see cref="IApiKeyGrain"/>, which caches briefly.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IClusterClient cluster,
    IConfiguration configuration) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        return await AuthenticateKeyAsync(header["Bearer ".Length..].Trim(), SchemeName, cluster, configuration, Context.RequestAborted);
    }

    /// <summary>
    /// What <paramref name="key"/> makes its holder: an admin, a caller of its project, or nothing. Every way a key
    /// arrives (the bearer header, the dashboard's session cookie) is authenticated here.
    /// </summary>
    public static async Task<AuthenticateResult> AuthenticateKeyAsync(
        string key, string scheme, IClusterClient cluster, IConfiguration configuration, CancellationToken cancellationToken)
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

        var projectId = await cluster.GetGrain<IApiKeyGrain>(0).AuthenticateAsync(hash, cancellationToken);
        return projectId is { } id
            ? Success(scheme, new Claim(Callers.ProjectClaim, id.ToString()))
            : AuthenticateResult.Fail("Unknown or revoked API key.");
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            "Send a valid API key: Authorization: Bearer <key>.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden", "This key may not call this endpoint.");

    private static AuthenticateResult Success(string scheme, Claim claim) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([claim], scheme)), scheme));
}
