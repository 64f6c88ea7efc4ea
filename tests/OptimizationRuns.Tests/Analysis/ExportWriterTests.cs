using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Analysis;

/// <summary>The export's writers on hand-made rows: CSV quoting, and the same field names as the REST answers.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ExportWriterTests(GatewayFixture fixture)
{
    private JsonSerializerOptions Options => fixture.Gateway.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    private static SampleView Sample(int index, string? error = null, string? inputs = """{"q": "a,b"}""") => new()
    {
        RunId = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), Iteration = 1, SampleIndex = index, ExampleId = $"ex-{index}",
        InputsJson = inputs, Score = 0.5m, Success = error is null, Error = error, LatencyMs = 12.25, PromptTokens = 3,
        CompletionTokens = 4, CostUsd = 0.000100m, CreatedAt = new DateTimeOffset(2026, 11, 26, 10, 0, 0, 500, TimeSpan.Zero),
    };

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
    public void CsvColumnsAreTheRestResponsesFieldsInOrder()
    {
        var sample = JsonSerializer.SerializeToElement(SampleResponse.From(Sample(0)), Options);
        Assert.Equal(sample.EnumerateObject().Select(p => p.Name), ExportColumns.Samples.Select(c => c.Name));
        var iteration = JsonSerializer.SerializeToElement(IterationResponse.From(new IterationView
        {
            Iteration = 0, Kind = OptimizationRuns.Grains.Runs.IterationKind.Full, ParamsJson = "{}", MetadataJson = "{}",
            CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        }), Options);
        Assert.Equal(iteration.EnumerateObject().Select(p => p.Name), ExportColumns.Iterations.Select(c => c.Name));
    }

    [Fact]
    public void CsvQuotesWhatNeedsItAndOnlyThat()
    {
        var csv = Write(ExportColumns.SampleWriter(ExportFormat.Csv, Options), [Sample(0, error: "said \"no\", then\nleft")], [Sample(1, inputs: null)]);

        var lines = csv.Split("\r\n");
        Assert.Equal(string.Join(",", ExportColumns.Samples.Select(c => c.Name)), lines[0]);
        Assert.Equal(
            "0f8fad5b-d9cb-469f-a165-70867728950e,1,0,ex-0,\"{\"\"q\"\": \"\"a,b\"\"}\",,,0.5,false,\"said \"\"no\"\", then\nleft\",12.25,3,4,0.000100,,,2026-11-26T10:00:00.5Z",
            lines[1]);
        Assert.StartsWith("0f8fad5b-d9cb-469f-a165-70867728950e,1,1,ex-1,,,,0.5,true,,12.25", lines[^2]);
        Assert.Equal("", lines[^1]);
        Assert.Equal(3, Csv.Parse(csv).Count);
    }

    [Fact]
    public void JsonLinesAreOneRestObjectPerLineAcrossPages()
    {
        var jsonl = Write(ExportColumns.SampleWriter(ExportFormat.Jsonl, Options), [Sample(0), Sample(1, error: "x\ny")], [Sample(2)]);

        var lines = jsonl.Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("", lines[3]);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(JsonSerializer.Serialize(SampleResponse.From(Sample(i, error: i == 1 ? "x\ny" : null)), Options), lines[i]);
        }
    }
}
