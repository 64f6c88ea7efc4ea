using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// The OpenAPI document tells the truth about the endpoints routing has mapped (read from the app's
/// <see cref="EndpointDataSource"/>, not from a list): every route and method with an operationId, the Bearer key
/// where a key is required, the errors the database can cause, request schemas whose required members are the
/// contract's, and the live events' payloads.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenApiTests(GatewayFixture fixture)
{
    private static readonly string[] WriteMethods = ["post", "put", "patch", "delete"];

    /// <summary>One mapped endpoint and method, with the path as OpenAPI spells it (<c>{runId}</c>, no constraints).</summary>
    private sealed record MappedOperation(string Method, string Path, Endpoint Endpoint)
    {
        public bool RequiresKey =>
            Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any() && Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null;

        public override string ToString() => $"{Method.ToUpperInvariant()} {Path}";
    }

    private async Task<JsonElement> DocumentAsync()
    {
        using var client = fixture.ClientWithKey(null);
        var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    // Endpoints without HTTP methods (the Prometheus scrape endpoint) answer any method: they are no API operation.
    private List<MappedOperation> MappedOperations()
    {
        using var started = fixture.ClientWithKey(null);
        var operations = fixture.Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
                .Select(method => new MappedOperation(method.ToLowerInvariant(), OpenApiPath(e.RoutePattern), e)))
            .ToList();
        // The DESIGN's example route must be among them, or this reads the wrong data source.
        Assert.Contains(operations, o => o.ToString() == "POST /api/optimization/runs");
        return operations;
    }

    private static string OpenApiPath(RoutePattern pattern) =>
        "/" + string.Join("/", pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => throw new InvalidOperationException($"Unexpected route part in {pattern.RawText}."),
        }))));

    private static JsonElement Operation(JsonElement document, MappedOperation mapped)
    {
        Assert.True(document.GetProperty("paths").TryGetProperty(mapped.Path, out var path), $"{mapped} is not in the document");
        Assert.True(path.TryGetProperty(mapped.Method, out var operation), $"{mapped} is not in the document");
        return operation;
    }

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        while (schema.TryGetProperty("$ref", out var reference))
        {
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        }

        return schema;
    }

    [Fact]
    public async Task EveryMappedRouteAndMethodIsDocumentedWithAnOperationId()
    {
        var document = await DocumentAsync();
        var mapped = MappedOperations();

        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        foreach (var operation in mapped)
        {
            var documented = Operation(document, operation);
            Assert.True(documented.TryGetProperty("operationId", out var id) && id.GetString() is { Length: > 0 }, $"{operation} has no operationId");
            Assert.True(documented.GetProperty("responses").EnumerateObject().Any(), $"{operation} documents no response");
        }

        var documentedOperations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}")).ToHashSet();
        Assert.Equal(mapped.Select(o => o.ToString()).ToHashSet(), documentedOperations);
    }

    [Fact]
    public async Task OperationsThatRequireAKeyDeclareTheBearerSchemeAndNoOthersDo()
    {
        var document = await DocumentAsync();

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var mapped = MappedOperations();
        Assert.Contains(mapped, o => !o.RequiresKey);
        foreach (var operation in mapped)
        {
            var documented = Operation(document, operation);
            var schemes = documented.TryGetProperty("security", out var security)
                ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(s => s.Name)).ToList()
                : [];
            Assert.True(operation.RequiresKey ? schemes.SequenceEqual(["Bearer"]) : schemes.Count == 0,
                $"{operation} requires a key: {operation.RequiresKey}; it declares [{string.Join(", ", schemes)}]");
        }
    }

    [Fact]
    public async Task DocumentedSecurityIsWhatTheGatewayEnforces()
    {
        var document = await DocumentAsync();
        using var anonymous = fixture.ClientWithKey(null);

        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            var url = System.Text.RegularExpressions.Regex.Replace(path.Name, "{[^}]+}", _ => Guid.NewGuid().ToString());
            foreach (var operation in path.Value.EnumerateObject())
            {
                using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url);
                using var response = await anonymous.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                var secured = operation.Value.TryGetProperty("security", out _);
                Assert.True(secured == (response.StatusCode == HttpStatusCode.Unauthorized),
                    $"{operation.Name} {path.Name} declares security: {secured}; without a key it answered {(int)response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task KeyedOperationsDocument503WithRetryAfterAndWritesDocument422()
    {
        var document = await DocumentAsync();

        var keyed = MappedOperations().Where(o => o.RequiresKey).ToList();
        Assert.Contains(keyed, o => WriteMethods.Contains(o.Method));
        foreach (var operation in keyed)
        {
            var responses = Operation(document, operation).GetProperty("responses");
            Assert.True(responses.TryGetProperty("503", out var unavailable), $"{operation} does not document 503");
            Assert.Equal("integer", unavailable.GetProperty("headers").GetProperty("Retry-After").GetProperty("schema").GetProperty("type").GetString());
            Assert.True(unavailable.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{operation}: 503 is no problem");
            Assert.True(responses.TryGetProperty("422", out _) == WriteMethods.Contains(operation.Method),
                $"{operation} documents 422: {responses.TryGetProperty("422", out _)}");
        }
    }

    [Fact]
    public async Task RequestSchemasRequireExactlyTheContractsRequiredMembers()
    {
        var document = await DocumentAsync();
        var json = fixture.Gateway.Services.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions;

        var checkedTypes = new HashSet<Type>();
        foreach (var operation in MappedOperations())
        {
            if (operation.Endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is not { RequestType: { } body })
            {
                continue;
            }

            var content = Operation(document, operation).GetProperty("requestBody").GetProperty("content");
            Compare(document, json.GetTypeInfo(body), content.GetProperty("application/json").GetProperty("schema"), checkedTypes);
        }

        Assert.Contains(typeof(OptimizationRuns.Gateway.Contracts.SampleRequest), checkedTypes);
    }

    // Required members are what binding enforces (C# required, [JsonRequired]); nested objects and list items too.
    private static void Compare(JsonElement document, JsonTypeInfo type, JsonElement schema, HashSet<Type> checkedTypes)
    {
        schema = Resolve(document, schema);
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            schema = Resolve(document, oneOf.EnumerateArray().Single(s => !(s.TryGetProperty("type", out var t) && t.GetString() == "null")));
        }

        if (type.Kind == JsonTypeInfoKind.Enumerable && schema.TryGetProperty("items", out var items))
        {
            Compare(document, type.Options.GetTypeInfo(type.ElementType!), items, checkedTypes);
        }

        if (type.Kind != JsonTypeInfoKind.Object || !checkedTypes.Add(type.Type))
        {
            return;
        }

        var required = schema.TryGetProperty("required", out var list) ? list.EnumerateArray().Select(r => r.GetString()!).ToHashSet() : [];
        Assert.True(type.Properties.Where(p => p.IsRequired).Select(p => p.Name).ToHashSet().SetEquals(required),
            $"{type.Type.Name}: the schema requires [{string.Join(", ", required)}], binding [{string.Join(", ", type.Properties.Where(p => p.IsRequired).Select(p => p.Name))}]");
        foreach (var property in type.Properties)
        {
            Compare(document, type.Options.GetTypeInfo(property.PropertyType), schema.GetProperty("properties").GetProperty(property.Name), checkedTypes);
        }
    }

    [Theory]
    [InlineData("CreateRunRequest", "runName,optimizerType,config")]
    [InlineData("IterationRequest", "iteration")]
    [InlineData("SampleRequest", "iteration,sampleIndex")]
    [InlineData("SampleBatchRequest", "samples")]
    [InlineData("PatchRunRequest", "")]
    [InlineData("ProgressRequest", "")]
    public async Task OnlyTheContractsRequiredFieldsAreRequired(string schema, string required)
    {
        var document = await DocumentAsync();

        var declared = document.GetProperty("components").GetProperty("schemas").GetProperty(schema);
        var names = declared.TryGetProperty("required", out var list) ? list.EnumerateArray().Select(r => r.GetString()).ToArray() : [];
        Assert.Equal(required.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(), names.Order());
    }

    [Fact]
    public async Task DefaultsAreStated()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");

        var sample = schemas.GetProperty("SampleRequest").GetProperty("properties");
        foreach (var field in new[] { "promptTokens", "completionTokens", "costUsd" })
        {
            Assert.Equal(0, sample.GetProperty(field).GetProperty("default").GetDecimal());
        }

        Assert.Contains("true exactly when `error` is null", sample.GetProperty("success").GetProperty("description").GetString());
        var kind = schemas.GetProperty("IterationRequest").GetProperty("properties").GetProperty("kind").ToString();
        Assert.Contains("When omitted on a new iteration it is minibatch", kind);
        Assert.Contains("the recorded kind is kept", kind);
        var iteration = schemas.GetProperty("IterationRequest").GetProperty("properties");
        Assert.Equal(0, iteration.GetProperty("promptTokens").GetProperty("default").GetInt64());
    }

    [Fact]
    public async Task TheSampleListDocumentsEveryFilterInTheQuery()
    {
        var parameters = (await DocumentAsync()).GetProperty("paths").GetProperty("/api/optimization/runs/{runId}/samples")
            .GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Where(p => p.GetProperty("in").GetString() == "query")
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("description").GetString());

        Assert.Equal(["iteration", "kind", "success", "minScore", "maxScore", "exampleId", "errorsOnly", "limit", "cursor"], parameters.Keys);
        Assert.Contains("baseline, minibatch or full", parameters["kind"]);
    }

    [Theory]
    [InlineData("/api/optimization/runs/{runId}/samples", 100, 1000)]
    [InlineData("/api/optimization/traces/{traceId}/samples", 100, 1000)]
    [InlineData("/api/optimization/leaderboard", 10, 100)]
    public async Task PageLimitsStateTheirDefaultAndRange(string path, int defaultLimit, int max)
    {
        var operation = (await DocumentAsync()).GetProperty("paths").GetProperty(path).GetProperty("get");

        var limit = operation.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "limit").GetProperty("schema");
        Assert.Equal("integer", limit.GetProperty("type").GetString());
        Assert.Equal(defaultLimit, limit.GetProperty("default").GetInt32());
        Assert.Equal(1, limit.GetProperty("minimum").GetInt32());
        Assert.Equal(max, limit.GetProperty("maximum").GetInt32());
    }

    [Fact]
    public async Task JsonValuesAreAnyJsonAndTimesAreStrings()
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");

        foreach (var (type, field) in new[] { ("CreateRunRequest", "config"), ("RunResponse", "config"), ("SampleResponse", "prediction") })
        {
            var schema = schemas.GetProperty(type).GetProperty("properties").GetProperty(field);
            var value = schema.TryGetProperty("oneOf", out var oneOf) ? oneOf.EnumerateArray().Last() : schema;
            Assert.False(Resolve(document, value).TryGetProperty("type", out _), $"{type}.{field} is not any JSON value: {schema}");
        }

        var createdAt = schemas.GetProperty("RunResponse").GetProperty("properties").GetProperty("createdAt");
        Assert.Equal(("string", "date-time"), (createdAt.GetProperty("type").GetString(), createdAt.GetProperty("format").GetString()));
    }

    [Fact]
    public async Task TheLiveStreamDocumentsEachEventWithItsPayload()
    {
        var document = await DocumentAsync();
        var json = fixture.Gateway.Services.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions;

        var stream = document.GetProperty("paths").GetProperty("/api/optimization/runs/{runId}/events").GetProperty("get")
            .GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("text/event-stream").GetProperty("schema");
        var events = stream.GetProperty("items").GetProperty("oneOf").EnumerateArray()
            .ToDictionary(e => e.GetProperty("properties").GetProperty("event").GetProperty("const").GetString()!);
        Assert.Equal(Enum.GetValues<RunEventKind>().Select(k => k.ToName()).Order(), events.Keys.Order());
        var payloads = new Dictionary<string, Type>
        {
            ["progress"] = typeof(ProgressEvent), ["iteration"] = typeof(IterationEvent),
            ["best_score"] = typeof(BestScoreEvent), ["status"] = typeof(StatusEvent),
        };
        foreach (var (name, schema) in events)
        {
            var data = schema.GetProperty("properties").GetProperty("data");
            Assert.Equal("application/json", data.GetProperty("contentMediaType").GetString());
            var payload = Resolve(document, data.GetProperty("contentSchema"));
            Assert.Equal(json.GetTypeInfo(payloads[name]).Properties.Select(p => p.Name).Order(),
                payload.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        }
    }

    [Fact]
    public async Task TheInteractiveDocsAreServed()
    {
        using var client = fixture.ClientWithKey(null);
        var response = await client.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync());
    }
}
