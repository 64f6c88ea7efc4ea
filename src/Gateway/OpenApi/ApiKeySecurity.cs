using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using OptimizationRuns.Gateway.Auth;

namespace OptimizationRuns.Gateway.OpenApi;

/// <summary>
/// Declares the <c>Authorization: Bearer &lt;key&gt;</c> scheme, and requires it on every operation whose endpoint
/// requires authorization (project keys, and the admin key for <c>/api/projects</c>); anonymous ones (<c>/health/*</c>) stay open.
/// </summary>
public sealed class ApiKeySecurity(IOptions<AuthorizationOptions> authorization) : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    /// <summary>The security scheme's name in <c>components.securitySchemes</c>.</summary>
    public const string SchemeName = "Bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.AddComponent(SchemeName, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "API key",
            Description = "A project's API key (the admin API creates it and shows it once), or, for /api/projects, the admin key.",
        });
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (RequiresKey(context.Description, authorization.Value))
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [] }];
            if (IsAdminOnly(context.Description))
            {
                operation.Description = string.Join("\n\n", new[] { operation.Description, "Requires the admin key." }.Where(d => d is { Length: > 0 }));
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Whether the endpoint answers 401 without a key: it requires authorization and does not allow anonymous callers.</summary>
    public static bool RequiresKey(ApiDescription description, AuthorizationOptions authorization)
    {
        var metadata = description.ActionDescriptor.EndpointMetadata;
        return !metadata.OfType<IAllowAnonymous>().Any()
            && (metadata.OfType<IAuthorizeData>().Any() || authorization.FallbackPolicy is not null);
    }

    private static bool IsAdminOnly(ApiDescription description) =>
        description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any(a => a.Policy == Callers.AdminPolicy);
}
