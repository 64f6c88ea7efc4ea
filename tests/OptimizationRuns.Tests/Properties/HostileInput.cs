using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace OptimizationRuns.Tests.Properties;

/// <summary>
/// Generators of hostile requests: JSON bodies that are valid ones with a field changed, removed or added, random JSON
/// of any shape, and text that is not JSON; query strings of the endpoint's parameters with values of every wrong
/// kind; and odd headers. Values are the ones that break parsers: huge and negative numbers, exponents, NaN, empty
/// and very long strings, NUL and lone surrogates, deep nesting.
/// </summary>
public static class HostileInput
{
    private static readonly string[] Atoms =
    [
        "null", "true", "false", "0", "-1", "1", "0.5", "-0.0", "1e308", "1e999", "-1e999", "99999999999999999999999", "2147483648",
        "9223372036854775808", "1.0000000000000000000001", "\"\"", "\"a\"", "\" \"", "\"NaN\"", "\"Infinity\"", "\"-1\"", "\"1e999\"",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"2026-13-45T99:99:99Z\"", "\"2026-01-01T00:00:00Z\"",
        "\"00000000-0000-0000-0000-000000000000\"", "\"not-a-guid\"", "\"<script>alert(1)</script>\"", "\"'; DROP TABLE optimization_runs; --\"",
        "\"miprov2\"", "\"full\"", "\"completed\"", "[]", "{}", "[null]", "{\"\":null}",
    ];

    private static readonly string[] QueryValues =
    [
        "", " ", "-1", "0", "1", "101", "1000001", "abc", "1e999", "NaN", "true", "null", "{", "{}", "[]", "{\"a\":", "%00", "\u0000",
        "2026-01-01T00:00:00Z", "2026-99-99", "-createdAt", "createdAt", "--", Guid.Empty.ToString(), "00000000", "x".PadRight(5000, 'x'),
        "{\"predictors\":{\"0\":{\"instruction\":2}}}", "\ud800", "../../etc/passwd", "'; SELECT 1; --",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
        "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/xml",
    ];

    /// <summary>A JSON value of any shape, at most <paramref name="depth"/> deep, keys drawn from <paramref name="names"/> or anywhere.</summary>
    public static Gen<string> Json(string[] names, int depth) => depth <= 0
        ? Gen.OneOf<string>(Atoms)
        : Gen.Frequency(
            (6, Gen.OneOf<string>(Atoms)),
            (1, Gen.String[0, 300].Select(s => System.Text.Json.JsonSerializer.Serialize(s))),
            (1, Gen.Int[1, 200].Select(n => new string('[', n) + new string(']', n))),
            (1, Gen.Const(System.Text.Json.JsonSerializer.Serialize(new string('x', 100_000)))),
            (2, Json(names, depth - 1).Array[0, 4].Select(items => $"[{string.Join(',', items)}]")),
            (3, Gen.Select(Gen.OneOf(Gen.OneOf<string>(names), Gen.String[0, 20]), Json(names, depth - 1)).Array[0, 5]
                .Select(members => "{" + string.Join(',', members.Select(m => $"{System.Text.Json.JsonSerializer.Serialize(m.Item1)}:{m.Item2}")) + "}")));

    /// <summary>A body for an endpoint whose valid body is <paramref name="valid"/>: a mutation of it, random JSON, or broken text.</summary>
    public static Gen<string> Body(string valid)
    {
        var names = FieldNames(JsonNode.Parse(valid)).Distinct().ToArray();
        return Gen.Frequency(
            (5, Mutation(valid, names)),
            (3, Json(names, 3)),
            (1, Gen.Int[0, valid.Length].Select(n => valid[..n])),
            (1, Gen.String[0, 200]));
    }

    /// <summary>A query string of <paramref name="parameters"/> (and strangers) with hostile values.</summary>
    public static Gen<string> Query(string[] parameters) =>
        Gen.Select(Gen.OneOf(Gen.OneOf<string>(parameters.Length == 0 ? ["x"] : parameters), Gen.OneOf<string>("x", "limit", "cursor")),
                Gen.OneOf(Gen.OneOf<string>(QueryValues), Gen.String[0, 40]))
            .Array[0, 4]
            .Select(pairs => pairs.Length == 0 ? "" : "?" + string.Join('&', pairs.Select(p => $"{p.Item1}={Uri.EscapeDataString(Safe(p.Item2))}")));

    /// <summary>Headers: a content type, a Last-Event-ID and a traceparent, each possibly absent or wrong.</summary>
    public static Gen<(string? ContentType, string? LastEventId, string? TraceParent)> Headers =>
        Gen.Select(
            Gen.Frequency((4, Gen.Const((string?)"application/json")), (1, Gen.OneOf<string>(ContentTypes).Select(c => (string?)c)), (1, Gen.Const((string?)null))),
            Gen.Frequency((4, Gen.Const((string?)null)), (1, Gen.OneOf<string>("-1", "abc", "99999999999999999999", "0", "3").Select(c => (string?)c))),
            Gen.Frequency((4, Gen.Const((string?)null)), (1, Gen.OneOf<string>("00-0-0-00", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .Select(c => (string?)c))));

    // Header values and URLs cannot carry every char: lone surrogates become replacement characters, as any client sends them.
    private static string Safe(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

    private static Gen<string> Mutation(string valid, string[] names) =>
        Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 2], Json(names, 2), Gen.OneOf(Gen.OneOf<string>(names), Gen.String[1, 10])).Select(t =>
        {
            var (pick, how, value, name) = t;
            var root = JsonNode.Parse(valid)!;
            var objects = Objects(root).ToList();
            var target = objects[pick % objects.Count];
            var keys = target.Select(p => p.Key).ToList();
            var text = root.ToJsonString();
            if (how == 0 && keys.Count > 0)
            {
                target.Remove(keys[pick % keys.Count]);
                return root.ToJsonString();
            }

            // The new value is spliced in as text: JsonNode cannot hold 1e999 or a lone surrogate.
            var key = how == 1 && keys.Count > 0 ? keys[pick % keys.Count] : name;
            target[key] = "\u0001marker\u0001";
            return root.ToJsonString().Replace("\"\\u0001marker\\u0001\"", value);
        });

    private static IEnumerable<JsonObject> Objects(JsonNode? node) => node switch
    {
        JsonObject o => new[] { o }.Concat(o.SelectMany(p => Objects(p.Value))),
        JsonArray a => a.SelectMany(Objects),
        _ => [],
    };

    private static IEnumerable<string> FieldNames(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => FieldNames(p.Value).Prepend(p.Key)),
        JsonArray a => a.SelectMany(FieldNames),
        _ => [],
    };
}
