using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace OptimizationRuns.Gateway.OpenApi;

/// <summary>
/// A page-size parameter (<c>limit</c>) is read as text so a bad value gets a message of its own, but what it takes is
/// an integer from 1 to a maximum, with a default: the document says so.
/// </summary>
public static class PageLimitDocs
{
    public static RouteHandlerBuilder WithPageLimit(this RouteHandlerBuilder builder, int defaultLimit, int maxLimit, string name = "limit") =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == name) is { } parameter)
            {
                parameter.Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Format = "int32",
                    Minimum = "1",
                    Maximum = maxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Default = defaultLimit,
                };
            }

            return Task.CompletedTask;
        });
}
