using System.Text.Json;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>JSON documents cross the grain boundary as text; HTTP shows them as JSON values.</summary>
public static class Json
{
    /// <summary>The raw text of a request's JSON value; null when absent or JSON null.</summary>
    public static string? Text(this JsonElement? element) =>
        element is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } e ? e.GetRawText() : null;

    /// <summary>Stored JSON text as a response value.</summary>
    public static JsonElement? Element(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Stored times are UTC; answer them with a Z.</summary>
    public static DateTime? Utc(this DateTimeOffset? value) => value?.UtcDateTime;
}
