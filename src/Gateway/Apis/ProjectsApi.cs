using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.OpenApi;
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
        api.MapGet("/", ListProjectsAsync).WithName("ListProjects")
            .WithSummary("The projects, newest first, with their key counts")
            .WithPageLimit(DefaultProjects, MaxProjects).ProducesValidationProblem();
        api.MapGet("/{projectId:guid}", GetProjectAsync).WithName("GetProject").WithSummary("A project, with its key counts");
        api.MapGet("/{projectId:guid}/api-keys", ListApiKeysAsync).WithName("ListApiKeys")
            .WithSummary("The project's API keys, oldest first: id, name, prefix, created, last used, revoked — never the key")
            .ProducesProblem(StatusCodes.Status404NotFound);
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

    private const int DefaultProjects = 50;
    private const int MaxProjects = 100;

    public static async Task<Results<Ok<ListResponse<ProjectListingResponse>>, ValidationProblem>> ListProjectsAsync(
        [Description("How many, 1–100 (default 50)")] string? limit,
        [Description("The nextCursor of the previous page")] string? cursor,
        IClusterClient cluster, CancellationToken cancellationToken)
    {
        var parameters = new QueryParameters();
        var count = parameters.Limit(limit, DefaultProjects, MaxProjects);
        ProjectPosition? after = null;
        if (cursor is { Length: > 0 } && !Cursors.TryDecode(cursor, out after))
        {
            parameters.Add("cursor", "Not a cursor of this list.");
        }

        if (!parameters.Valid)
        {
            return TypedResults.ValidationProblem(parameters.Errors);
        }

        // One more than the page says whether there is a next one.
        var projects = await cluster.GetGrain<IProjectAdminGrain>(0).ListProjectsAsync(count + 1, after, cancellationToken);
        var page = projects.Take(count).ToList();
        var next = projects.Count > count ? Cursors.Encode(new ProjectPosition(page[^1].CreatedAt, page[^1].Id)) : null;
        return TypedResults.Ok(new ListResponse<ProjectListingResponse>(page.Select(ProjectListingResponse.From).ToList(), next));
    }

    public static async Task<Results<Ok<ProjectListingResponse>, NotFound>> GetProjectAsync(
        Guid projectId, IClusterClient cluster, CancellationToken cancellationToken) =>
        await cluster.GetGrain<IProjectAdminGrain>(0).GetProjectAsync(projectId, cancellationToken) is { } project
            ? TypedResults.Ok(ProjectListingResponse.From(project))
            : TypedResults.NotFound();

    public static async Task<Ok<ListResponse<ApiKeyListingResponse>>> ListApiKeysAsync(
        Guid projectId, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var keys = await cluster.GetGrain<IProjectAdminGrain>(0).ListApiKeysAsync(projectId, cancellationToken);
        return TypedResults.Ok(new ListResponse<ApiKeyListingResponse>(keys.Select(ApiKeyListingResponse.From).ToList(), null));
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

/// <summary>A project as the admin lists it: <c>apiKeys</c> counts every key, <c>activeApiKeys</c> those not revoked.</summary>
public sealed record ProjectListingResponse(Guid Id, string Name, DateTimeOffset CreatedAt, long ApiKeys, long ActiveApiKeys)
{
    public static ProjectListingResponse From(ProjectListing project) =>
        new(project.Id, project.Name, project.CreatedAt, project.ApiKeys, project.ActiveApiKeys);
}

/// <summary>An API key as listed: <c>prefix</c> tells it apart; the key itself is never shown again.</summary>
public sealed record ApiKeyListingResponse(
    Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static ApiKeyListingResponse From(ApiKeyInfo key) =>
        new(key.Id, key.Name, key.Prefix, key.CreatedAt, key.LastUsedAt, key.RevokedAt);
}
