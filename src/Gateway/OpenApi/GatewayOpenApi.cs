namespace OptimizationRuns.Gateway.OpenApi;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>, shown at <c>/docs</c>): the endpoints' own metadata, plus what is true
/// of many endpoints at once: the Bearer key they require, the errors the database can cause, and raw JSON values.
/// </summary>
public static class GatewayOpenApi
{
    public static IServiceCollection AddGatewayOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "OptimizationRuns";
                document.Info.Description = "The system of record and live view for prompt-optimization runs.";
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer<ApiKeySecurity>();
            o.AddOperationTransformer<ApiKeySecurity>();
            o.AddOperationTransformer<StorageErrorResponses>();
            o.AddSchemaTransformer<ConvertedValueSchemas>();
        });
}
