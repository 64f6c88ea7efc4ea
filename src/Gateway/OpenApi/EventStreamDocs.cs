using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace OptimizationRuns.Gateway.OpenApi;

/// <summary>
/// Describes a <c>text/event-stream</c> answer as what goes over the wire: a sequence of events, each with its
/// name (<c>event</c>), its sequence number (<c>id</c>) and a JSON payload (<c>data</c>) of a declared record. OpenAPI 3.1
/// has no schema per streamed item, so the stream is modeled as the array of its events (as the OpenAPI media type
/// registry describes for <c>text/event-stream</c>), one <c>oneOf</c> branch per event name.
/// </summary>
public static class EventStreamDocs
{
    private const string EventStream = "text/event-stream";

    /// <summary>Documents the 200 answer as a stream of the given events: event name → payload type.</summary>
    public static RouteHandlerBuilder ProducesEventStream(this RouteHandlerBuilder builder, IReadOnlyDictionary<string, Type> events) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var document = context.Document ?? throw new InvalidOperationException("The operation has no document.");
            var variants = new List<IOpenApiSchema>();
            foreach (var (name, payload) in events)
            {
                document.AddComponent(payload.Name, await context.GetOrCreateSchemaAsync(payload, null, cancellationToken));
                variants.Add(new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Title = name,
                    Required = new HashSet<string> { "event", "id", "data" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["event"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = name },
                        ["id"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String,
                            Description = "The event's sequence number in the run; send the last one seen as Last-Event-ID to resume after it.",
                        },
                        ["data"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String,
                            ContentMediaType = "application/json",
                            ContentSchema = new OpenApiSchemaReference(payload.Name, document),
                        },
                    },
                });
            }

            operation.Responses ??= [];
            if (operation.Responses.TryGetValue("200", out var declared) && declared is OpenApiResponse ok)
            {
                ok.Content ??= new Dictionary<string, OpenApiMediaType>();
                // The result type declares SseItem<T>, what .NET writes an event from, not what the stream carries.
                if (ok.Content.TryGetValue(EventStream, out var generated) && generated.Schema is OpenApiSchemaReference { Reference.Id: { } id })
                {
                    document.Components?.Schemas?.Remove(id);
                }

                ok.Content[EventStream] = new OpenApiMediaType
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { OneOf = variants } },
                };
            }
        });
}
