using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace OptimizationRuns.Gateway.Auth;

/// <summary>Who is calling: an admin, or a project's key. Policies and the caller's project.</summary>
public static class Callers
{
    public const string AdminKeySetting = "OPTRUNS_ADMIN_KEY";
    public const string AdminRole = "admin";
    public const string ProjectClaim = "project";
    public const string AdminPolicy = "admin";
    public const string ProjectPolicy = "project";

    /// <summary>The project of a caller that passed <see cref="ProjectPolicy"/>.</summary>
    public static Guid ProjectId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ProjectClaim) ?? throw new InvalidOperationException("The caller has no project."));

    public static IServiceCollection AddOptimizationRunsAuth(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyCheck>();
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireRole(AdminRole))
            .AddPolicy(ProjectPolicy, p => p.RequireClaim(ProjectClaim));
        return services;
    }
}
