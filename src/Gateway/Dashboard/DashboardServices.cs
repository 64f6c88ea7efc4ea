using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.FileProviders;
using OptimizationRuns.Gateway.Dashboard.Components;
using OptimizationRuns.Gateway.Dashboard.Sessions;

namespace OptimizationRuns.Gateway.Dashboard;

/// <summary>
/// The dashboard: server-rendered Razor components (static SSR, no per-viewer circuit) that call the same API
/// handlers and grains the REST API does, small ES modules for charts and live updates, and a session cookie.
/// </summary>
public static class DashboardServices
{
    /// <summary>Where the pages' own files (CSS, scripts, vendored uPlot) are served.</summary>
    public const string AssetsPath = "/assets";

    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(DashboardOptions.Section);
        builder.Services.Configure<DashboardOptions>(section);
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("OptimizationRuns");
        if (section[nameof(DashboardOptions.KeysDirectory)] is { Length: > 0 } keys)
        {
            // Gateways that share this directory share the keys, so any of them accepts a session another issued.
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(keys));
        }

        builder.Services.AddSingleton<SessionCookie>();
        builder.Services.AddAuthentication(o => o.DefaultScheme = SessionAuthentication.SelectorScheme)
            .AddScheme<AuthenticationSchemeOptions, SessionAuthentication>(SessionAuthentication.SchemeName, null)
            .AddPolicyScheme(SessionAuthentication.SelectorScheme, null, o => o.ForwardDefaultSelector = SessionAuthentication.Select);
        builder.Services.AddRazorComponents();
        builder.Services.AddResponseCompression(o => o.MimeTypes = ["text/javascript", "application/javascript", "text/css"]);
        return builder;
    }

    /// <summary>The pages' static files, compressed, before authentication (they are public and never personal).</summary>
    public static IApplicationBuilder UseDashboardAssets(this IApplicationBuilder app) =>
        app.UseWhen(c => c.Request.Path.StartsWithSegments(AssetsPath), assets => assets
            .UseResponseCompression()
            .UseStaticFiles(new StaticFileOptions
            {
                RequestPath = AssetsPath,
                FileProvider = new EmbeddedFileProvider(typeof(DashboardServices).Assembly, "OptimizationRuns.Gateway.wwwroot"),
                OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "public, max-age=300",
            }));

    /// <summary>Form posts (sign in, sign out) carry an antiforgery token; runs after authentication.</summary>
    public static IApplicationBuilder UseDashboard(this IApplicationBuilder app) => app.UseAntiforgery();

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/runs")).ExcludeFromDescription();
        // Pages, not API operations: the OpenAPI document leaves them out.
        app.MapRazorComponents<App>().ExcludeFromDescription();
        return app;
    }
}
