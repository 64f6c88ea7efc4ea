using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>Writes an export's rows to a response body, a page at a time, in one format.</summary>
public abstract class ExportWriter<T>
{
    /// <summary>What goes before the first row (the CSV header row), if anything.</summary>
    public abstract void WriteStart(IBufferWriter<byte> output);

    public abstract void WritePage(IReadOnlyList<T> rows, IBufferWriter<byte> output);
}

/// <summary>
/// JSON Lines: each row as the REST API answers it (the same record, the same serializer options), one object a line.
/// </summary>
public sealed class JsonLinesWriter<TRow, TResponse>(Func<TRow, TResponse> toResponse, JsonSerializerOptions options) : ExportWriter<TRow>
{
    private readonly JsonTypeInfo<TResponse> _type = (JsonTypeInfo<TResponse>)options.GetTypeInfo(typeof(TResponse));

    public override void WriteStart(IBufferWriter<byte> output)
    {
    }

    public override void WritePage(IReadOnlyList<TRow> rows, IBufferWriter<byte> output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = true });
        foreach (var row in rows)
        {
            JsonSerializer.Serialize(json, toResponse(row), _type);
            json.Flush();
            output.GetSpan(1)[0] = (byte)'\n';
            output.Advance(1);
            // The next row is a new top-level value.
            json.Reset();
        }
    }
}

/// <summary>
/// CSV (RFC 4180): a header row of the REST response's field names, then one line a row, CRLF-terminated. A cell is
/// quoted when it holds a comma, a quote or a line break (quotes doubled); JSON values are always quoted, as JSON text;
/// null is an empty cell and the empty string <c>""</c>. Numbers and times are written as the JSON answers write them.
/// </summary>
public sealed class CsvWriter<TRow, TResponse>(Func<TRow, TResponse> toResponse, IReadOnlyList<CsvColumn<TResponse>> columns) : ExportWriter<TRow>
{
    private readonly StringBuilder _text = new();
    private readonly Encoder _utf8 = new UTF8Encoding(false).GetEncoder();

    public override void WriteStart(IBufferWriter<byte> output)
    {
        var line = new CsvLine(_text.Clear());
        foreach (var column in columns)
        {
            line.Text(column.Name);
        }

        line.End();
        Flush(output);
    }

    public override void WritePage(IReadOnlyList<TRow> rows, IBufferWriter<byte> output)
    {
        var line = new CsvLine(_text.Clear());
        foreach (var row in rows)
        {
            var response = toResponse(row);
            foreach (var column in columns)
            {
                column.Write(response, line);
            }

            line.End();
        }

        Flush(output);
    }

    // The page's text as UTF-8; one encoder across the builder's chunks, so a character split between two is whole.
    private void Flush(IBufferWriter<byte> output)
    {
        foreach (var chunk in _text.GetChunks())
        {
            _utf8.Convert(chunk.Span, output, flush: false, out _, out _);
        }

        _utf8.Convert(ReadOnlySpan<char>.Empty, output, flush: true, out _, out _);
    }
}

/// <summary>One CSV column: its header (the JSON field name) and how a response writes its cell.</summary>
public sealed record CsvColumn<T>(string Name, Action<T, CsvLine> Write);

/// <summary>Writes one CSV line's cells in order.</summary>
public sealed class CsvLine(StringBuilder text)
{
    private bool _first = true;

    private StringBuilder Cell()
    {
        if (!_first)
        {
            text.Append(',');
        }

        _first = false;
        return text;
    }

    public void End()
    {
        text.Append("\r\n");
        _first = true;
    }

    public void Text(string? value)
    {
        var cell = Cell();
        if (value is null)
        {
            return;
        }

        if (value.Length == 0 || value.AsSpan().IndexOfAny(",\"\r\n") >= 0)
        {
            Quoted(cell, value);
        }
        else
        {
            cell.Append(value);
        }
    }

    public void Json(RawJson? value)
    {
        var cell = Cell();
        if (value is { } json)
        {
            Quoted(cell, json.Text);
        }
    }

    public void Number(long? value)
    {
        var cell = Cell();
        if (value is { } v)
        {
            cell.Append(v.ToString(CultureInfo.InvariantCulture));
        }
    }

    public void Number(decimal? value)
    {
        var cell = Cell();
        if (value is { } v)
        {
            cell.Append(v.ToString(CultureInfo.InvariantCulture));
        }
    }

    public void Number(double? value)
    {
        var cell = Cell();
        if (value is { } v)
        {
            cell.Append(v.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    public void Boolean(bool value) => Cell().Append(value ? "true" : "false");

    public void Id(Guid value) => Cell().Append(value.ToString("D"));

    public void Name<T>(T value) where T : struct, Enum => Cell().Append(value.ToName());

    /// <summary>As <see cref="UtcTimeConverter"/> writes it: UTC, a <c>Z</c>, fractional seconds without trailing zeros.</summary>
    public void Time(DateTimeOffset? value)
    {
        var cell = Cell();
        if (value is { } v)
        {
            cell.Append(v.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
        }
    }

    private static void Quoted(StringBuilder cell, string value)
    {
        cell.Append('"');
        var start = 0;
        for (var quote = value.IndexOf('"'); quote >= 0; quote = value.IndexOf('"', start))
        {
            cell.Append(value, start, quote - start).Append("\"\"");
            start = quote + 1;
        }

        cell.Append(value, start, value.Length - start).Append('"');
    }
}

/// <summary>The CSV columns of the exported tables, in the order and with the names of the REST responses' fields.</summary>
public static class ExportColumns
{
    public static readonly IReadOnlyList<CsvColumn<SampleResponse>> Samples =
    [
        new("runId", (s, c) => c.Id(s.RunId)),
        new("iteration", (s, c) => c.Number(s.Iteration)),
        new("sampleIndex", (s, c) => c.Number(s.SampleIndex)),
        new("exampleId", (s, c) => c.Text(s.ExampleId)),
        new("inputs", (s, c) => c.Json(s.Inputs)),
        new("expected", (s, c) => c.Json(s.Expected)),
        new("prediction", (s, c) => c.Json(s.Prediction)),
        new("score", (s, c) => c.Number(s.Score)),
        new("success", (s, c) => c.Boolean(s.Success)),
        new("error", (s, c) => c.Text(s.Error)),
        new("latencyMs", (s, c) => c.Number(s.LatencyMs)),
        new("promptTokens", (s, c) => c.Number(s.PromptTokens)),
        new("completionTokens", (s, c) => c.Number(s.CompletionTokens)),
        new("costUsd", (s, c) => c.Number(s.CostUsd)),
        new("traceId", (s, c) => c.Text(s.TraceId)),
        new("spanId", (s, c) => c.Text(s.SpanId)),
        new("createdAt", (s, c) => c.Time(s.CreatedAt)),
    ];

    public static readonly IReadOnlyList<CsvColumn<IterationResponse>> Iterations =
    [
        new("iteration", (i, c) => c.Number(i.Iteration)),
        new("kind", (i, c) => c.Name(i.Kind)),
        new("score", (i, c) => c.Number(i.Score)),
        new("isBest", (i, c) => c.Boolean(i.IsBest)),
        new("params", (i, c) => c.Json(i.Params)),
        new("candidateProgram", (i, c) => c.Json(i.CandidateProgram)),
        new("samplesEvaluated", (i, c) => c.Number(i.SamplesEvaluated)),
        new("samplesSuccessful", (i, c) => c.Number(i.SamplesSuccessful)),
        new("samplesFailed", (i, c) => c.Number(i.SamplesFailed)),
        new("promptTokens", (i, c) => c.Number(i.PromptTokens)),
        new("completionTokens", (i, c) => c.Number(i.CompletionTokens)),
        new("totalTokens", (i, c) => c.Number(i.TotalTokens)),
        new("costUsd", (i, c) => c.Number(i.CostUsd)),
        new("avgLatencyMs", (i, c) => c.Number(i.AvgLatencyMs)),
        new("startedAt", (i, c) => c.Time(i.StartedAt)),
        new("completedAt", (i, c) => c.Time(i.CompletedAt)),
        new("durationMs", (i, c) => c.Number(i.DurationMs)),
        new("traceId", (i, c) => c.Text(i.TraceId)),
        new("spanId", (i, c) => c.Text(i.SpanId)),
        new("metadata", (i, c) => c.Json(i.Metadata)),
        new("createdAt", (i, c) => c.Time(i.CreatedAt)),
        new("updatedAt", (i, c) => c.Time(i.UpdatedAt)),
    ];

    /// <summary>The writer of <paramref name="format"/> for samples.</summary>
    public static ExportWriter<SampleView> SampleWriter(ExportFormat format, JsonSerializerOptions options) => format == ExportFormat.Csv
        ? new CsvWriter<SampleView, SampleResponse>(SampleResponse.From, Samples)
        : new JsonLinesWriter<SampleView, SampleResponse>(SampleResponse.From, options);

    /// <summary>The writer of <paramref name="format"/> for iterations.</summary>
    public static ExportWriter<IterationView> IterationWriter(ExportFormat format, JsonSerializerOptions options) => format == ExportFormat.Csv
        ? new CsvWriter<IterationView, IterationResponse>(IterationResponse.From, Iterations)
        : new JsonLinesWriter<IterationView, IterationResponse>(IterationResponse.From, options);
}
