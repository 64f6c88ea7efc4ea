using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// Any JSON value (a run's config, an iteration's params, a sample's inputs …), carried as its text: requests take
/// the member's text as sent, responses write stored text as it is, without parsing it.
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public readonly record struct RawJson(string Text)
{
    /// <summary>Stored JSON text as a value; null stays null.</summary>
    public static RawJson? From(string? text) => text is null ? null : new RawJson(text);

    public override string ToString() => Text;
}

/// <summary>Reads a JSON member's raw text; writes the text unparsed.</summary>
public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // A RawJson? member never sees null here (its nullable converter answers it): this member is required.
        if (reader.TokenType == JsonTokenType.Null)
        {
            throw new JsonException("A JSON value is required here, not null.");
        }

        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(document.RootElement.GetRawText());
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options)
    {
        if (value.Text is null)
        {
            writer.WriteNullValue();
            return;
        }

        // The text comes from PostgreSQL jsonb (or was read as JSON by this converter): it is valid JSON.
        writer.WriteRawValue(value.Text, skipInputValidation: true);
    }
}
