using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Errors;
using OptimizationRuns.Grains.Projects;

namespace OptimizationRuns.Gateway.Security;

/// <summary>
/// Refuses a request that carries an API key in its query string (400 naming the parameter): URLs end up in proxy
/// and access logs, browser history and Referer headers, so a key belongs in the Authorization header only. A key is
/// recognised by the parameter's name (<c>api_key</c>, <c>token</c>, …) or by its value (a project key's marker, the
/// admin key, a bearer credential). The refusal tells the caller, who should revoke a key that travelled in a URL.
/// </summary>
public static class KeyInQuery
{
    private static readonly HashSet<string> KeyNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "api_key", "apikey", "api-key", "key", "access_token", "token", "auth", "authorization", "bearer", "admin_key",
    };

    public static IApplicationBuilder UseKeyInQueryRefusal(this IApplicationBuilder app)
    {
        var adminKey = app.ApplicationServices.GetRequiredService<IConfiguration>()[Callers.AdminKeySetting];
        return app.Use(async (context, next) =>
        {
            if (context.Request.QueryString.HasValue && Offending(context.Request.Query, adminKey) is { } name)
            {
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "Invalid request",
                    $"The query parameter '{name}' looks like an API key; keys are accepted only in the Authorization header.",
                    new Dictionary<string, string[]>
                    {
                        [name] = ["API keys go in the Authorization header (Authorization: Bearer <key>), never in a URL, which logs keep. "
                            + "Revoke a key that was sent in a URL."],
                    });
                return;
            }

            await next(context);
        });
    }

    private static string? Offending(IQueryCollection query, string? adminKey)
    {
        foreach (var (name, values) in query)
        {
            if (KeyNames.Contains(name) || values.Any(v => v is not null && LooksLikeKey(v, adminKey)))
            {
                return name;
            }
        }

        return null;
    }

    private static bool LooksLikeKey(string value, string? adminKey) =>
        value.StartsWith(ApiKeys.Marker, StringComparison.Ordinal)
        || value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
        || (adminKey is { Length: > 0 } && value.Contains(adminKey, StringComparison.Ordinal));
}
