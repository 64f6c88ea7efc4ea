using System.Text.Json;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Maintenance;

/// <summary>
/// Writes an expired run to <c>{directory}/{projectId}/{runId}/</c> before it is deleted: <c>run.json</c> (the run's
/// row), <c>iterations.jsonl</c> and <c>samples.jsonl</c> — one JSON object a line with the fields and names of
/// <c>GET …/export?format=jsonl</c> (tests compare the two). Page by page through the export grain, so memory stays at
/// two pages; each file is written under a temporary name, flushed to disk and then renamed, so a file with its final
/// name is complete.
/// </summary>
public sealed class RetentionArchive(string directory)
{
    private static readonly JsonSerializerOptions RunJson = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Writes the run's three files, counting each page of samples against <paramref name="pace"/> as half a sample a
    /// row (the delete that follows is the other half); returns the folder and the number of samples written.
    /// </summary>
    public async Task<(string Folder, long Samples)> WriteAsync(RunSnapshot run, IRunExportGrain export, RetentionPace pace,
        CancellationToken cancellationToken)
    {
        var folder = Path.Combine(directory, run.ProjectId.ToString(), run.Id.ToString());
        Directory.CreateDirectory(folder);
        await WriteFileAsync(Path.Combine(folder, "run.json"), async stream =>
            await JsonSerializer.SerializeAsync(stream, run, RunJson, cancellationToken), cancellationToken);
        await WriteFileAsync(Path.Combine(folder, "iterations.jsonl"), async stream =>
            await WriteLinesAsync(stream, export.ExportIterationsAsync(cancellationToken), WriteIteration, null, cancellationToken), cancellationToken);
        long samples = 0;
        await WriteFileAsync(Path.Combine(folder, "samples.jsonl"), async stream =>
            samples = await WriteLinesAsync(stream, export.ExportSamplesAsync(cancellationToken), WriteSample, pace, cancellationToken), cancellationToken);
        return (folder, samples);
    }

    private static async Task WriteFileAsync(string path, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            await write(stream);
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
        }

        File.Move(partial, path, overwrite: true);
    }

    private static async Task<long> WriteLinesAsync<T>(Stream stream, IAsyncEnumerable<IReadOnlyList<T>> pages, Action<Utf8JsonWriter, T> write,
        RetentionPace? pace, CancellationToken cancellationToken)
    {
        long rows = 0;
        await using var json = new Utf8JsonWriter(stream);
        await foreach (var page in pages.WithCancellation(cancellationToken))
        {
            foreach (var row in page)
            {
                write(json, row);
                json.Flush();
                json.Reset();
                stream.WriteByte((byte)'\n');
                rows++;
            }

            await stream.FlushAsync(cancellationToken);
            if (pace is not null)
            {
                await pace.SpendAsync(page.Count / 2.0, cancellationToken);
            }
        }

        return rows;
    }

    private static void WriteSample(Utf8JsonWriter json, SampleExportRow s)
    {
        json.WriteStartObject();
        json.WriteString("runId", s.RunId);
        json.WriteNumber("iteration", s.Iteration);
        json.WriteNumber("sampleIndex", s.SampleIndex);
        Text(json, "exampleId", s.ExampleId);
        Raw(json, "inputs", s.Inputs);
        Raw(json, "expected", s.Expected);
        Raw(json, "prediction", s.Prediction);
        Number(json, "score", s.Score);
        json.WriteBoolean("success", s.Success);
        Text(json, "error", s.Error);
        Number(json, "latencyMs", s.LatencyMs);
        json.WriteNumber("promptTokens", s.PromptTokens);
        json.WriteNumber("completionTokens", s.CompletionTokens);
        json.WriteNumber("costUsd", s.CostUsd);
        Text(json, "traceId", s.TraceId);
        Text(json, "spanId", s.SpanId);
        json.WriteString("createdAt", s.CreatedAt.UtcDateTime);
        json.WriteEndObject();
    }

    private static void WriteIteration(Utf8JsonWriter json, IterationView i)
    {
        json.WriteStartObject();
        json.WriteNumber("iteration", i.Iteration);
        json.WriteString("kind", i.Kind.ToName());
        Number(json, "score", i.Score);
        json.WriteBoolean("isBest", i.IsBest);
        Raw(json, "params", i.ParamsJson);
        Raw(json, "candidateProgram", i.CandidateProgramJson);
        json.WriteNumber("samplesEvaluated", i.SamplesEvaluated);
        json.WriteNumber("samplesSuccessful", i.SamplesSuccessful);
        json.WriteNumber("samplesFailed", i.SamplesFailed);
        json.WriteNumber("promptTokens", i.PromptTokens);
        json.WriteNumber("completionTokens", i.CompletionTokens);
        json.WriteNumber("totalTokens", i.PromptTokens + i.CompletionTokens);
        json.WriteNumber("costUsd", i.CostUsd);
        Number(json, "avgLatencyMs", i.AvgLatencyMs);
        Time(json, "startedAt", i.StartedAt);
        Time(json, "completedAt", i.CompletedAt);
        Number(json, "durationMs", i.DurationMs);
        Text(json, "traceId", i.TraceId);
        Text(json, "spanId", i.SpanId);
        Raw(json, "metadata", i.MetadataJson);
        json.WriteString("createdAt", i.CreatedAt.UtcDateTime);
        json.WriteString("updatedAt", i.UpdatedAt.UtcDateTime);
        json.WriteEndObject();
    }

    private static void Text(Utf8JsonWriter json, string name, byte[]? utf8)
    {
        if (utf8 is null) json.WriteNull(name);
        else json.WriteString(name, utf8.AsSpan());
    }

    private static void Text(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }

    // Stored JSON goes out as stored, as the export does.
    private static void Raw(Utf8JsonWriter json, string name, byte[]? utf8)
    {
        json.WritePropertyName(name);
        if (utf8 is null) json.WriteNullValue();
        else json.WriteRawValue(utf8, skipInputValidation: true);
    }

    private static void Raw(Utf8JsonWriter json, string name, string? value)
    {
        json.WritePropertyName(name);
        if (value is null) json.WriteNullValue();
        else json.WriteRawValue(value, skipInputValidation: true);
    }

    private static void Number(Utf8JsonWriter json, string name, decimal? value)
    {
        if (value is { } v) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }

    private static void Time(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } v) json.WriteString(name, v.UtcDateTime);
        else json.WriteNull(name);
    }
}
