using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using OptimizationRuns.Gateway.Contracts;

namespace OptimizationRuns.Gateway.OpenApi;

/// <summary>
/// Schemas of the values the gateway reads and writes with its own converters, which the generator cannot see into:
/// a <see cref="RawJson"/> is any JSON value (not a string, not an object of its own), and a
/// <see cref="DateTimeOffset"/> an ISO-8601 string (<see cref="UtcTimeConverter"/>).
/// </summary>
public sealed class ConvertedValueSchemas : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        var nullable = Nullable.GetUnderlyingType(type) is not null;
        var value = Nullable.GetUnderlyingType(type) ?? type;
        if (value == typeof(RawJson))
        {
            schema.Type = null;
            schema.Format = null;
            schema.Properties?.Clear();
            schema.Required?.Clear();
        }
        else if (value == typeof(DateTimeOffset))
        {
            schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
            schema.Format = "date-time";
        }

        return Task.CompletedTask;
    }
}
