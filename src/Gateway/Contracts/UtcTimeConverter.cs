using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// Times as ISO-8601: read with any offset, answered in UTC with a <c>Z</c> (2026-11-26T10:00:41.5Z), so
/// responses carry the grains' <see cref="DateTimeOffset"/>s as they are.
/// </summary>
public sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value)
            ? value
            : throw new JsonException("Must be an ISO-8601 time, e.g. 2026-11-26T10:00:00Z.");

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime);
}
