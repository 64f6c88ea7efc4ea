using System.Buffers;
using System.Text;
using System.Text.Json;
using OptimizationRuns.Grains.Analysis;
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
/// One exported field: its name (the REST response's JSON field name, and the CSV header) and how a row writes its
/// value. One list of these per table serves both formats, so a JSON line and a CSV row always hold the same fields.
/// </summary>
public sealed class ExportColumn<T>(string name, Action<T, IExportCells> write)
{
    public string Name { get; } = name;

    public JsonEncodedText JsonName { get; } = JsonEncodedText.Encode(name);

    public Action<T, IExportCells> Write { get; } = write;
}

/// <summary>
/// The values a field can hold, written as the REST answers write them: text (as a string or its UTF-8 bytes), JSON
/// (stored text, written as it is), numbers, booleans, ids, the domain's names, UTC times.
/// </summary>
public interface IExportCells
{
    void Text(string? value);
    void Text(byte[]? utf8);
    void Json(string? value);
    void Json(byte[]? utf8);
    void Number(long? value);
    void Number(decimal? value);
    void Number(double? value);
    void Boolean(bool value);
    void Id(Guid value);
    void Name<TName>(TName value) where TName : struct, Enum;
    void Time(DateTimeOffset? value);
}

/// <summary>
/// JSON Lines: one object a line, with the REST response's fields in its order, written as the API's serializer
/// writes them (its encoder; times as <see cref="UtcTimeConverter"/>; stored JSON raw).
/// </summary>
public sealed class JsonLinesWriter<T>(IReadOnlyList<ExportColumn<T>> columns, JsonSerializerOptions options) : ExportWriter<T>
{
    public override void WriteStart(IBufferWriter<byte> output)
    {
    }

    public override void WritePage(IReadOnlyList<T> rows, IBufferWriter<byte> output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = true });
        var cells = new JsonCells(json);
        foreach (var row in rows)
        {
            json.WriteStartObject();
            foreach (var column in columns)
            {
                json.WritePropertyName(column.JsonName);
                column.Write(row, cells);
            }

            json.WriteEndObject();
            json.Flush();
            output.GetSpan(1)[0] = (byte)'\n';
            output.Advance(1);
            // The next row is a new top-level value.
            json.Reset();
        }
    }

    private sealed class JsonCells(Utf8JsonWriter json) : IExportCells
    {
        public void Text(string? value)
        {
            if (value is null)
            {
                json.WriteNullValue();
            }
            else
            {
                json.WriteStringValue(value);
            }
        }

        public void Text(byte[]? utf8)
        {
            if (utf8 is null)
            {
                json.WriteNullValue();
            }
            else
            {
                json.WriteStringValue(utf8);
            }
        }

        public void Json(string? value)
        {
            if (value is null)
            {
                json.WriteNullValue();
            }
            else
            {
                json.WriteRawValue(value, skipInputValidation: true);
            }
        }

        public void Json(byte[]? utf8)
        {
            if (utf8 is null)
            {
                json.WriteNullValue();
            }
            else
            {
                // jsonb's own text: valid JSON.
                json.WriteRawValue(utf8, skipInputValidation: true);
            }
        }

        public void Number(long? value)
        {
            if (value is { } v)
            {
                json.WriteNumberValue(v);
            }
            else
            {
                json.WriteNullValue();
            }
        }

        public void Number(decimal? value)
        {
            if (value is { } v)
            {
                json.WriteNumberValue(v);
            }
            else
            {
                json.WriteNullValue();
            }
        }

        public void Number(double? value)
        {
            if (value is { } v)
            {
                json.WriteNumberValue(v);
            }
            else
            {
                json.WriteNullValue();
            }
        }

        public void Boolean(bool value) => json.WriteBooleanValue(value);

        public void Id(Guid value) => json.WriteStringValue(value);

        public void Name<TName>(TName value) where TName : struct, Enum => json.WriteStringValue(value.ToName());

        public void Time(DateTimeOffset? value)
        {
            if (value is { } v)
            {
                json.WriteStringValue(v.UtcDateTime);
            }
            else
            {
                json.WriteNullValue();
            }
        }
    }
}

/// <summary>
/// CSV (RFC 4180): a header row of the REST response's field names, then one line a row, CRLF-terminated. A cell is
/// quoted when it holds a comma, a quote or a line break (quotes doubled); JSON values are always quoted, as JSON text;
/// null is an empty cell and the empty string <c>""</c>. Numbers and times are written as the JSON answers write them.
/// Written straight as UTF-8: text that arrived as bytes is copied, never decoded.
/// </summary>
public sealed class CsvWriter<T>(IReadOnlyList<ExportColumn<T>> columns) : ExportWriter<T>
{
    public override void WriteStart(IBufferWriter<byte> output)
    {
        var cells = new CsvCells(output);
        foreach (var column in columns)
        {
            cells.Text(column.Name);
        }

        cells.EndLine();
        cells.Flush();
    }

    public override void WritePage(IReadOnlyList<T> rows, IBufferWriter<byte> output)
    {
        var cells = new CsvCells(output);
        foreach (var row in rows)
        {
            foreach (var column in columns)
            {
                column.Write(row, cells);
            }

            cells.EndLine();
        }

        cells.Flush();
    }
}

/// <summary>
/// Writes CSV lines' cells in order, as UTF-8, into a block taken from the output and handed back when full or at
/// <see cref="Flush"/>: a cell is a few bytes, and asking the response's pipe for each would cost more than the cell.
/// </summary>
public sealed class CsvCells(IBufferWriter<byte> output) : IExportCells
{
    private const string TimeFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'";
    private const int BlockBytes = 16 * 1024;
    private static readonly SearchValues<byte> NeedQuotes = SearchValues.Create(","u8 + "\""u8 + "\r\n"u8);
    private Memory<byte> _block;
    private int _used;
    private bool _first = true;

    /// <summary>Hands what was written to the output.</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            output.Advance(_used);
        }

        _block = default;
        _used = 0;
    }

    public void EndLine()
    {
        Bytes("\r\n"u8);
        _first = true;
    }

    public void Text(string? value)
    {
        Separate();
        if (value is not null)
        {
            Utf8Cell(Encoding.UTF8.GetBytes(value), quote: false);
        }
    }

    public void Text(byte[]? utf8)
    {
        Separate();
        if (utf8 is not null)
        {
            Utf8Cell(utf8, quote: false);
        }
    }

    public void Json(string? value)
    {
        Separate();
        if (value is not null)
        {
            Utf8Cell(Encoding.UTF8.GetBytes(value), quote: true);
        }
    }

    public void Json(byte[]? utf8)
    {
        Separate();
        if (utf8 is not null)
        {
            Utf8Cell(utf8, quote: true);
        }
    }

    public void Number(long? value)
    {
        Separate();
        if (value is { } v)
        {
            Formatted(v, default);
        }
    }

    public void Number(decimal? value)
    {
        Separate();
        if (value is { } v)
        {
            Formatted(v, default);
        }
    }

    public void Number(double? value)
    {
        Separate();
        if (value is { } v)
        {
            Formatted(v, "R");
        }
    }

    public void Boolean(bool value)
    {
        Separate();
        Bytes(value ? "true"u8 : "false"u8);
    }

    public void Id(Guid value)
    {
        Separate();
        Formatted(value, "D");
    }

    public void Name<TName>(TName value) where TName : struct, Enum
    {
        Separate();
        Bytes(Encoding.UTF8.GetBytes(value.ToName()));
    }

    /// <summary>As <see cref="UtcTimeConverter"/> writes it: UTC, a <c>Z</c>, fractional seconds without trailing zeros.</summary>
    public void Time(DateTimeOffset? value)
    {
        Separate();
        if (value is { } v)
        {
            Formatted(v.UtcDateTime, TimeFormat);
        }
    }

    private void Separate()
    {
        if (!_first)
        {
            Bytes(","u8);
        }

        _first = false;
    }

    private void Utf8Cell(ReadOnlySpan<byte> value, bool quote)
    {
        // The bytes that call for quotes are ASCII, so they never occur inside a multi-byte character.
        if (!quote && value.Length > 0 && value.IndexOfAny(NeedQuotes) < 0)
        {
            Bytes(value);
            return;
        }

        Bytes("\""u8);
        for (var quoteAt = value.IndexOf((byte)'"'); quoteAt >= 0; quoteAt = value.IndexOf((byte)'"'))
        {
            Bytes(value[..(quoteAt + 1)]);
            Bytes("\""u8);
            value = value[(quoteAt + 1)..];
        }

        Bytes(value);
        Bytes("\""u8);
    }

    private void Formatted<TValue>(TValue value, ReadOnlySpan<char> format) where TValue : IUtf8SpanFormattable
    {
        if (!value.TryFormat(Room(64), out var written, format, System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"{typeof(TValue).Name} needs more than 64 bytes in CSV.");
        }

        _used += written;
    }

    private void Bytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Room(bytes.Length));
        _used += bytes.Length;
    }

    // At least `bytes` free bytes of the block, a new block when the current one has fewer.
    private Span<byte> Room(int bytes)
    {
        if (_block.Length - _used < bytes)
        {
            Flush();
            _block = output.GetMemory(Math.Max(bytes, BlockBytes));
        }

        return _block.Span[_used..];
    }
}

/// <summary>The exported tables' fields, in the order and with the names of the REST responses' fields.</summary>
public static class ExportColumns
{
    public static readonly IReadOnlyList<ExportColumn<SampleExportRow>> Samples =
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

    public static readonly IReadOnlyList<ExportColumn<IterationView>> Iterations =
    [
        new("iteration", (i, c) => c.Number(i.Iteration)),
        new("kind", (i, c) => c.Name(i.Kind)),
        new("score", (i, c) => c.Number(i.Score)),
        new("isBest", (i, c) => c.Boolean(i.IsBest)),
        new("params", (i, c) => c.Json(i.ParamsJson)),
        new("candidateProgram", (i, c) => c.Json(i.CandidateProgramJson)),
        new("samplesEvaluated", (i, c) => c.Number(i.SamplesEvaluated)),
        new("samplesSuccessful", (i, c) => c.Number(i.SamplesSuccessful)),
        new("samplesFailed", (i, c) => c.Number(i.SamplesFailed)),
        new("promptTokens", (i, c) => c.Number(i.PromptTokens)),
        new("completionTokens", (i, c) => c.Number(i.CompletionTokens)),
        new("totalTokens", (i, c) => c.Number(i.PromptTokens + i.CompletionTokens)),
        new("costUsd", (i, c) => c.Number(i.CostUsd)),
        new("avgLatencyMs", (i, c) => c.Number(i.AvgLatencyMs)),
        new("startedAt", (i, c) => c.Time(i.StartedAt)),
        new("completedAt", (i, c) => c.Time(i.CompletedAt)),
        new("durationMs", (i, c) => c.Number(i.DurationMs)),
        new("traceId", (i, c) => c.Text(i.TraceId)),
        new("spanId", (i, c) => c.Text(i.SpanId)),
        new("metadata", (i, c) => c.Json(i.MetadataJson)),
        new("createdAt", (i, c) => c.Time(i.CreatedAt)),
        new("updatedAt", (i, c) => c.Time(i.UpdatedAt)),
    ];

    /// <summary>
    /// A candidate: its predictor and kind, then the fields of a candidate of <c>GET …/candidates</c>, its statistics
    /// flattened into columns of their own (so a CSV row holds them; the JSON lines carry the same names).
    /// </summary>
    public static readonly IReadOnlyList<ExportColumn<CandidateExportRow>> Candidates =
    [
        new("predictor", (r, c) => c.Text(r.Predictor)),
        new("kind", (r, c) => c.Name(r.Kind)),
        new("index", (r, c) => c.Number(r.Candidate.Index)),
        new("recorded", (r, c) => c.Boolean(r.Candidate.Recorded)),
        new("text", (r, c) => c.Text(r.Candidate.Text)),
        new("demos", (r, c) => c.Json(r.Candidate.DemosJson)),
        new("createdAt", (r, c) => c.Time(r.Candidate.CreatedAt)),
        new("timesChosen", (r, c) => c.Number(r.Candidate.TimesChosen)),
        new("minibatchN", (r, c) => c.Number(r.Candidate.Minibatch.N)),
        new("minibatchMean", (r, c) => c.Number(r.Candidate.Minibatch.Mean)),
        new("minibatchCi95Low", (r, c) => c.Number(r.Candidate.Minibatch.Ci95Low)),
        new("minibatchCi95High", (r, c) => c.Number(r.Candidate.Minibatch.Ci95High)),
        new("fullN", (r, c) => c.Number(r.Candidate.Full.N)),
        new("fullMean", (r, c) => c.Number(r.Candidate.Full.Mean)),
        new("bestScore", (r, c) => c.Number(r.Candidate.BestScore)),
        new("bestMinibatchScore", (r, c) => c.Number(r.Candidate.BestMinibatchScore)),
    ];

    /// <summary>The writer of <paramref name="format"/> for candidates.</summary>
    public static ExportWriter<CandidateExportRow> CandidateWriter(ExportFormat format, JsonSerializerOptions options) => Writer(Candidates, format, options);

    /// <summary>The writer of <paramref name="format"/> for samples.</summary>
    public static ExportWriter<SampleExportRow> SampleWriter(ExportFormat format, JsonSerializerOptions options) => Writer(Samples, format, options);

    /// <summary>The writer of <paramref name="format"/> for iterations.</summary>
    public static ExportWriter<IterationView> IterationWriter(ExportFormat format, JsonSerializerOptions options) => Writer(Iterations, format, options);

    private static ExportWriter<T> Writer<T>(IReadOnlyList<ExportColumn<T>> columns, ExportFormat format, JsonSerializerOptions options) =>
        format == ExportFormat.Csv ? new CsvWriter<T>(columns) : new JsonLinesWriter<T>(columns, options);
}
