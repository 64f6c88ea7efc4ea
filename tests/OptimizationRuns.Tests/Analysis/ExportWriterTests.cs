using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Analysis;

/// <summary>
/// The export's writers on hand-made rows: the REST responses' fields and values, CSV quoting. (In the gateway
/// collection only for the gateway's JSON options.)
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ExportWriterTests(GatewayFixture fixture)
{
    private static readonly Guid Run = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
    private static readonly DateTimeOffset At = new(2026, 11, 26, 10, 0, 0, 500, TimeSpan.Zero);

    private JsonSerializerOptions Options => fixture.Gateway.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    private static byte[]? Utf8(string? text) => text is null ? null : Encoding.UTF8.GetBytes(text);

    // The same sample as the export carries it and as a samples page does.
    private static (SampleExportRow Row, SampleView View) Sample(int index, string? error = null, string? inputs = """{"q": "a,b ü"}""")
    {
        var view = new SampleView
        {
            RunId = Run, Iteration = 1, SampleIndex = index, ExampleId = $"ex-{index}", InputsJson = inputs, Score = 0.5000m,
            Success = error is null, Error = error, LatencyMs = 12.25, PromptTokens = 3, CompletionTokens = 4,
            CostUsd = 0.000100m, TraceId = index == 0 ? "4bf92f3577b34da6a3ce929d0e0e4736" : null, CreatedAt = At,
        };
        var row = new SampleExportRow
        {
            RunId = view.RunId, Iteration = view.Iteration, SampleIndex = view.SampleIndex, ExampleId = Utf8(view.ExampleId),
            Inputs = Utf8(view.InputsJson), Score = view.Score, Success = view.Success, Error = Utf8(view.Error),
            LatencyMs = view.LatencyMs, PromptTokens = view.PromptTokens, CompletionTokens = view.CompletionTokens,
            CostUsd = view.CostUsd, TraceId = Utf8(view.TraceId), CreatedAt = view.CreatedAt,
        };
        return (row, view);
    }

    private static string Write<T>(ExportWriter<T> writer, params IReadOnlyList<T>[] pages)
    {
        var output = new ArrayBufferWriter<byte>();
        writer.WriteStart(output);
        foreach (var page in pages)
        {
            writer.WritePage(page, output);
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void ColumnsAreTheRestResponsesFieldsInOrder()
    {
        var sample = JsonSerializer.SerializeToElement(SampleResponse.From(Sample(0).View), Options);
        Assert.Equal(sample.EnumerateObject().Select(p => p.Name), ExportColumns.Samples.Select(c => c.Name));
        var iteration = JsonSerializer.SerializeToElement(IterationResponse.From(Iteration()), Options);
        Assert.Equal(iteration.EnumerateObject().Select(p => p.Name), ExportColumns.Iterations.Select(c => c.Name));
    }

    private static IterationView Iteration() => new()
    {
        Iteration = 3, Kind = IterationKind.Full, Score = 0.6100m, ParamsJson = """{"predictors": {"0": {"demos": 1}}}""",
        PromptTokens = 20480, CompletionTokens = 2210, CostUsd = 0.0123m, StartedAt = At, MetadataJson = "{}",
        CreatedAt = At, UpdatedAt = At.AddSeconds(41),
    };

    [Fact]
    public void JsonLinesAreTheRestObjectsOnePerLineAcrossPages()
    {
        var samples = new[] { Sample(0), Sample(1, error: "x\n\"y\""), Sample(2, inputs: null) };

        var jsonl = Write(ExportColumns.SampleWriter(ExportFormat.Jsonl, Options), [samples[0].Row, samples[1].Row], [samples[2].Row]);

        Assert.Equal(samples.Select(s => JsonSerializer.Serialize(SampleResponse.From(s.View), Options) + "\n"), jsonl.Split('\n')[..^1].Select(l => l + "\n"));
        Assert.EndsWith("\n", jsonl);
        Assert.Equal(JsonSerializer.Serialize(IterationResponse.From(Iteration()), Options) + "\n",
            Write(ExportColumns.IterationWriter(ExportFormat.Jsonl, Options), [Iteration()]));
    }

    [Fact]
    public void CsvQuotesWhatNeedsItAndOnlyThat()
    {
        var csv = Write(ExportColumns.SampleWriter(ExportFormat.Csv, Options),
            [Sample(0, error: "said \"no\", then\nleft").Row], [Sample(1, inputs: null).Row]);

        var lines = csv.Split("\r\n");
        Assert.Equal(string.Join(",", ExportColumns.Samples.Select(c => c.Name)), lines[0]);
        Assert.Equal(
            "0f8fad5b-d9cb-469f-a165-70867728950e,1,0,ex-0,\"{\"\"q\"\": \"\"a,b ü\"\"}\",,,0.5000,false,\"said \"\"no\"\", then\nleft\",12.25,3,4,0.000100,4bf92f3577b34da6a3ce929d0e0e4736,,2026-11-26T10:00:00.5Z",
            lines[1]);
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e,1,1,ex-1,,,,0.5000,true,,12.25,3,4,0.000100,,,2026-11-26T10:00:00.5Z", lines[2]);
        Assert.Equal("", lines[3]);
        Assert.Equal(3, Csv.Parse(csv).Count);
        Assert.Equal(
            "3,full,0.6100,false,\"{\"\"predictors\"\": {\"\"0\"\": {\"\"demos\"\": 1}}}\",,0,0,0,20480,2210,22690,0.0123,,2026-11-26T10:00:00.5Z,,,,,\"{}\",2026-11-26T10:00:00.5Z,2026-11-26T10:00:41.5Z",
            Write(ExportColumns.IterationWriter(ExportFormat.Csv, Options), [Iteration()]).Split("\r\n")[1]);
    }
}
