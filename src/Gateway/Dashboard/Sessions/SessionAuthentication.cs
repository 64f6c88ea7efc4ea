using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Errors;

namespace OptimizationRuns.Gateway.Dashboard.Sessions;

/// <summary>
/// Authenticates the dashboard's session cookie through the same key check as <see cref="ApiKeyAuthentication"/>.
/// Pages that need a session redirect to <c>/signin</c>; the API (reached by the pages' scripts) answers 401.
/// </summary>
public sealed class SessionAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    SessionCookie cookie,
    ApiKeyCheck keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "DashboardSession";

    /// <summary>The default scheme: a bearer key when one is sent, else the session cookie.</summary>
    public const string SelectorScheme = "ApiKeyOrSession";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (cookie.Read(Request) is not { } key)
        {
            return SessionCookie.IsPresent(Request) ? AuthenticateResult.Fail("The session expired.") : AuthenticateResult.NoResult();
        }

        var result = await keys.AuthenticateAsync(key, SchemeName, Context.RequestAborted);
        // The dashboard shows one project: an admin key has none.
        return result.Principal?.HasClaim(c => c.Type == Callers.ProjectClaim) == false
            ? AuthenticateResult.Fail("The dashboard needs a project key.")
            : result;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (IsApi(Request))
        {
            return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized", "Sign in again, or send Authorization: Bearer <key>.");
        }

        var returnUrl = Request.PathBase + Request.Path + Request.QueryString;
        Response.Redirect($"/signin?returnUrl={Uri.EscapeDataString(returnUrl)}");
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden", "This key may not call this endpoint.");

    /// <summary>
    /// Which scheme authenticates a request: a bearer header always means the API key; the pages and the API's
    /// reads (the pages' scripts: live events, trajectory) may use the session. Writes never do, so a cookie alone
    /// can change nothing.
    /// </summary>
    public static string Select(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers.Authorization.Count > 0)
        {
            return ApiKeyAuthentication.SchemeName;
        }

        if (!IsApi(request))
        {
            return SchemeName;
        }

        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && SessionCookie.IsPresent(request)
            ? SchemeName
            : ApiKeyAuthentication.SchemeName;
    }

    private static bool IsApi(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/health") || request.Path.StartsWithSegments("/openapi");
}
