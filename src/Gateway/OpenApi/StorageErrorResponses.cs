using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace OptimizationRuns.Gateway.OpenApi;

/// <summary>
/// Documents what the database can answer through any keyed endpoint (see <c>ErrorResponses</c>): 503 with
/// <c>Retry-After</c> on every one (the key's lookup and the call itself need the database and the cluster), and 422
/// on those that write (data the database refuses).
/// </summary>
public sealed class StorageErrorResponses(IOptions<AuthorizationOptions> authorization) : IOpenApiOperationTransformer
{
    private const string ProblemSchema = "ProblemDetails";

    private static readonly HashSet<string> WriteMethods = new(StringComparer.OrdinalIgnoreCase) { "POST", "PUT", "PATCH", "DELETE" };

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!ApiKeySecurity.RequiresKey(context.Description, authorization.Value))
        {
            return;
        }

        var problem = await ProblemReferenceAsync(context, cancellationToken);
        operation.Responses ??= [];
        var unavailable = Response(operation.Responses, "503", problem,
            "The database or the cluster is unavailable, or the run is overloaded: nothing was done. Retry after Retry-After seconds.");
        unavailable.Headers ??= new Dictionary<string, IOpenApiHeader>();
        unavailable.Headers["Retry-After"] = new OpenApiHeader
        {
            Description = "Seconds to wait before retrying.",
            Required = true,
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
        };
        if (WriteMethods.Contains(context.Description.HttpMethod ?? ""))
        {
            Response(operation.Responses, "422", problem,
                "The database refused the data (a constraint it enforces): nothing of it was stored, and a retry fails the same way.");
        }
    }

    private static OpenApiResponse Response(OpenApiResponses responses, string status, IOpenApiSchema problem, string description)
    {
        if (responses.TryGetValue(status, out var declared) && declared is OpenApiResponse response)
        {
            response.Description = description;
            return response;
        }

        response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = problem } },
        };
        responses[status] = response;
        return response;
    }

    private static async Task<IOpenApiSchema> ProblemReferenceAsync(OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation has no document.");
        if (document.Components?.Schemas?.ContainsKey(ProblemSchema) != true)
        {
            document.AddComponent(ProblemSchema, await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, cancellationToken));
        }

        return new OpenApiSchemaReference(ProblemSchema, document);
    }
}
