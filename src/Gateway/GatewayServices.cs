using System.Text.Json;
using System.Text.Json.Serialization;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Gateway.Errors;
using OptimizationRuns.Gateway.OpenApi;

namespace OptimizationRuns.Gateway;

/// <summary>The gateway's services and request pipeline, so Program.cs reads top to bottom.</summary>
public static class GatewayServices
{
    /// <summary>Request bodies larger than this are refused with 413 (<c>Gateway:MaxBodyBytes</c>).</summary>
    public const long DefaultMaxBodyBytes = 32 * 1024 * 1024;

    public static WebApplicationBuilder AddGatewayServices(this WebApplicationBuilder builder)
    {
        var maxBody = builder.Configuration.GetValue("Gateway:MaxBodyBytes", DefaultMaxBodyBytes);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxBody);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.Customize);
        builder.Services.AddExceptionHandler<ErrorResponses>();
        // Malformed bodies throw, so ErrorResponses answers them with problem details naming the field.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            // A non-nullable member refuses JSON null, so a required member cannot be sent as null.
            o.SerializerOptions.RespectNullableAnnotations = true;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
            o.SerializerOptions.Converters.Add(new UtcTimeConverter());
        });
        builder.Services.AddOptimizationRunsAuth();
        builder.Services.AddGatewayOpenApi();
        return builder;
    }

    /// <summary>Refuses a declared body over the limit before reading it (Kestrel's limit covers the rest).</summary>
    public static IApplicationBuilder UseBodySizeLimit(this IApplicationBuilder app, long maxBytes) =>
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentLength > maxBytes)
            {
                await Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Payload too large",
                    $"Request bodies are limited to {maxBytes:N0} bytes; send samples in batches of at most {Grains.Limits.MaxSamplesPerBatch:N0}.");
                return;
            }

            await next(context);
        });
}
