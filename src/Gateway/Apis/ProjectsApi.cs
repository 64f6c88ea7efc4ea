using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Grains.Projects;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>Projects and API keys: the admin key only.</summary>
public static class ProjectsApi
{
    public static RouteGroupBuilder MapProjectsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/projects").WithTags("Projects").RequireAuthorization(Callers.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/", CreateProjectAsync).WithName("CreateProject").WithSummary("Create a project")
            .ProducesValidationProblem();
        api.MapPost("/{projectId:guid}/api-keys", CreateApiKeyAsync).WithName("CreateApiKey")
            .WithSummary("Create an API key; the key is in this answer only").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{projectId:guid}/api-keys/{keyId:guid}", RevokeApiKeyAsync).WithName("RevokeApiKey")
            .WithSummary("Revoke an API key").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapRetentionApi();
        return api;
    }

    public static async Task<Results<Created<ProjectResponse>, ValidationProblem>> CreateProjectAsync(
        CreateProjectRequest request, IClusterClient cluster, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["Required, at most 200 characters."] });
        }

        var project = await cluster.GetGrain<IProjectAdminGrain>(0).CreateProjectAsync(request.Id, request.Name, cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Id}", new ProjectResponse(project.Id, project.Name, project.CreatedAt));
    }

    public static async Task<Created<ApiKeyResponse>> CreateApiKeyAsync(
        Guid projectId, CreateApiKeyRequest? request, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var key = await cluster.GetGrain<IProjectAdminGrain>(0).CreateApiKeyAsync(projectId, request?.Name, cancellationToken);
        return TypedResults.Created($"/api/projects/{projectId}/api-keys/{key.Id}", new ApiKeyResponse(key.Id, key.Key, key.Prefix));
    }

    public static async Task<Results<NoContent, NotFound>> RevokeApiKeyAsync(
        Guid projectId, Guid keyId, IClusterClient cluster, CancellationToken cancellationToken) =>
        await cluster.GetGrain<IProjectAdminGrain>(0).RevokeApiKeyAsync(projectId, keyId, cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.NotFound();
}

/// <summary>Create a project; only <c>name</c> is required.</summary>
public sealed record CreateProjectRequest
{
    /// <summary>A client-chosen id; sending the same create again answers the same project. Omitted, the gateway picks one.</summary>
    public Guid? Id { get; init; }

    /// <summary>The project's name, 1–200 characters.</summary>
    public required string Name { get; init; }
}

/// <summary>A project.</summary>
public sealed record ProjectResponse(Guid Id, string Name, DateTimeOffset CreatedAt);

/// <summary>Create an API key; the body (and its name) may be omitted.</summary>
public sealed record CreateApiKeyRequest
{
    /// <summary>A label for the key, e.g. the worker pool that uses it.</summary>
    public string? Name { get; init; }
}

/// <summary>A new API key: <c>key</c> is shown this once.</summary>
public sealed record ApiKeyResponse(Guid Id, string Key, string Prefix);
