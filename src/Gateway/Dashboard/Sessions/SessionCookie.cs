using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace OptimizationRuns.Gateway.Dashboard.Sessions;

/// <summary>
/// The dashboard's session: the project API key, encrypted and signed with ASP.NET Core Data Protection, in an
/// HttpOnly, SameSite=Strict cookie. The key itself never reaches a URL, a log or a page; the gateway
/// authenticates it on every request exactly as it authenticates a bearer key, so a revoked key ends the session.
/// </summary>
public sealed class SessionCookie(IDataProtectionProvider protection, IOptions<DashboardOptions> options)
{
    public const string Name = "optruns_session";

    private readonly ITimeLimitedDataProtector _protector =
        protection.CreateProtector("OptimizationRuns.Dashboard.Session.v1").ToTimeLimitedDataProtector();

    /// <summary>Starts a session holding <paramref name="apiKey"/>.</summary>
    public void Write(HttpContext context, string apiKey)
    {
        var lifetime = options.Value.SessionLifetime;
        context.Response.Cookies.Append(Name, _protector.Protect(apiKey, lifetime), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            MaxAge = lifetime,
            IsEssential = true,
        });
    }

    /// <summary>Ends the session.</summary>
    public static void Delete(HttpContext context) =>
        context.Response.Cookies.Delete(Name, new CookieOptions { Path = "/", SameSite = SameSiteMode.Strict, HttpOnly = true });

    public static bool IsPresent(HttpRequest request) => request.Cookies.ContainsKey(Name);

    /// <summary>The API key the request's cookie holds; null when there is none, it expired, or it was tampered with.</summary>
    public string? Read(HttpRequest request)
    {
        if (request.Cookies[Name] is not { Length: > 0 } value)
        {
            return null;
        }

        try
        {
            return _protector.Unprotect(value);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}
