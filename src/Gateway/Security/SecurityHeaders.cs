namespace OptimizationRuns.Gateway.Security;

/// <summary>
/// The headers every answer carries. The Content-Security-Policy is here and only here: the dashboard pages are
/// server-rendered with external ES modules (no inline script), so <c>'self'</c> covers scripts and styles; the API
/// reference at <c>/docs</c> (Scalar) configures itself with an inline script and gets a policy of its own.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The policy of every answer but the API reference.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>The API reference's policy: Scalar's page needs inline script and style.</summary>
    public const string DocsContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Adds the headers when the answer starts, so error answers written later carry them too.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var context = (HttpContext)state;
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.XFrameOptions = "DENY";
                headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/docs")
                    ? DocsContentSecurityPolicy
                    : ContentSecurityPolicy;
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
}
