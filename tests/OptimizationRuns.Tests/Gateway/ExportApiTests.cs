using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Tests.Analysis;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>GET …/runs/{runId}/export through real HTTP: both formats parsed back and compared with the REST answers.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ExportApiTests(GatewayFixture fixture)
{
    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    private static string Export(Guid runId, string query = "") => $"/api/optimization/runs/{runId}/export{query}";

    // Values a CSV or JSON writer can get wrong: separators, quotes and line breaks in text and in JSON, non-ASCII, nulls.
    private static async Task<Guid> SmallRunAsync(ReadSideDriver p)
    {
        var run = await p.CreateRunAsync("export");
        await p.RecordIterationAsync(run, new
        {
            iteration = 0, kind = "baseline", score = 0.4m, samplesEvaluated = 3, promptTokens = 1500, completionTokens = 30,
            costUsd = 0.0021m, startedAt = "2026-11-26T10:00:00Z", completedAt = "2026-11-26T10:00:41.25Z",
            @params = new { predictors = new { _0 = new { instruction = 2, demos = 1 } } },
            metadata = new { note = "line one\nline \"two\", end" },
        });
        await p.RecordIterationAsync(run, new { iteration = 1, kind = "minibatch", score = 0.55m, candidateProgram = new { instructions = new[] { "Answer, briefly." } } });
        await p.RecordIterationAsync(run, new { iteration = 2, kind = "full" });
        await p.RecordSamplesAsync(run,
        [
            new
            {
                iteration = 0, sampleIndex = 0, exampleId = "ex,1", inputs = new { question = "Who wrote \"Ulysses\", and when?\r\nBe brief." },
                expected = new { answer = "Joyce, 1922" }, prediction = new { answer = "James Joyce (1922)", reasoning = "Ulysses → Joyce; ünïcödé ✓" },
                score = 0.75m, success = true, latencyMs = 812.5, promptTokens = 512, completionTokens = 64, costUsd = 0.0004m,
                traceId = "4bf92f3577b34da6a3ce929d0e0e4736", spanId = "00f067aa0ba902b7",
            },
            new
            {
                iteration = 0, sampleIndex = 1, exampleId = "ex \"2\"", inputs = new { question = "q", list = new object?[] { 1, null, "a,b" } },
                expected = (object?)null, prediction = (object?)null, score = 0m, success = false,
                error = "ValueError: Expected dict_keys(['answer'])\nbut got, \"nothing\"", latencyMs = (double?)null, promptTokens = 0,
                completionTokens = 0, costUsd = 0m, traceId = (string?)null, spanId = (string?)null,
            },
            new { iteration = 1, sampleIndex = 0, exampleId = (string?)null, inputs = new { question = "" }, score = 1m, success = true },
            new { iteration = 2, sampleIndex = 5, exampleId = "", inputs = (object?)null, score = (decimal?)null, success = true },
        ]);
        return run;
    }

    private static async Task<(HttpResponseMessage Response, string Body)> DownloadAsync(ReadSideDriver p, string url)
    {
        var response = await p.Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        return (response, body);
    }

    private static List<JsonElement> JsonLines(string body)
    {
        Assert.EndsWith("\n", body);
        return body.Split('\n')[..^1].Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    // Each line is the REST answer's item, with the same fields in the same order.
    private static void AssertJsonLinesMatch(List<JsonElement> rest, string body)
    {
        var lines = JsonLines(body);
        Assert.Equal(rest.Count, lines.Count);
        for (var i = 0; i < rest.Count; i++)
        {
            AssertSameJson(rest[i], lines[i]);
            Assert.Equal(rest[i].EnumerateObject().Select(f => f.Name), lines[i].EnumerateObject().Select(f => f.Name));
        }
    }

    private static void AssertAttachment(HttpResponseMessage response, string mediaType, string fileName)
    {
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"attachment; filename=\"{fileName}\"", response.Content.Headers.GetValues("Content-Disposition").Single());
    }

    private static void AssertSameJson(JsonElement expected, JsonElement actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.GetRawText()), JsonNode.Parse(actual.GetRawText())),
            $"expected {expected.GetRawText()}\n     got {actual.GetRawText()}");

    // A CSV cell against the REST answer's value of that field: text as it is, JSON as JSON, empty for null.
    private static void AssertCell(JsonElement expected, string? cell, string field)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Null:
                Assert.True(cell is null, $"{field}: expected an empty cell, got {cell}");
                break;
            case JsonValueKind.String:
                Assert.Equal(expected.GetString(), cell);
                break;
            case JsonValueKind.Number:
                Assert.Equal(expected.GetRawText(), cell);
                break;
            case JsonValueKind.True or JsonValueKind.False:
                Assert.Equal(expected.GetBoolean() ? "true" : "false", cell);
                break;
            default:
                Assert.NotNull(cell);
                AssertSameJson(expected, JsonDocument.Parse(cell!).RootElement);
                break;
        }
    }

    private static void AssertCsvMatches(List<JsonElement> rest, string body)
    {
        var rows = Csv.Parse(body);
        var header = rows[0].Select(h => h!).ToList();
        Assert.Equal(rest[0].EnumerateObject().Select(p => p.Name), header);
        Assert.Equal(rest.Count, rows.Count - 1);
        for (var i = 0; i < rest.Count; i++)
        {
            var row = rows[i + 1];
            Assert.Equal(header.Count, row.Count);
            for (var c = 0; c < header.Count; c++)
            {
                AssertCell(rest[i].GetProperty(header[c]), row[c], $"row {i} {header[c]}");
            }
        }
    }

    [Fact]
    public async Task SamplesExportAsTheSamplesPagesAnswerThemInBothFormats()
    {
        var p = await NewProjectAsync();
        var run = await SmallRunAsync(p);
        var rest = (await p.AllPagesAsync($"/api/optimization/runs/{run}/samples")).Items;
        Assert.Equal(4, rest.Count);

        var (jsonResponse, jsonl) = await DownloadAsync(p, Export(run, "?format=jsonl&what=samples"));
        AssertJsonLinesMatch(rest, jsonl);
        AssertAttachment(jsonResponse, "application/x-ndjson", $"run-{run}-samples.jsonl");

        var (csvResponse, csv) = await DownloadAsync(p, Export(run, "?format=csv"));
        AssertCsvMatches(rest, csv);
        AssertAttachment(csvResponse, "text/csv", $"run-{run}-samples.csv");
        // JSON values are quoted cells; null is an empty cell, the empty string a quoted one.
        Assert.Contains("\"{\"\"question\"\": \"\"\"\"}\"", csv);
        Assert.Contains(",\"\",", csv);
    }

    [Fact]
    public async Task IterationsExportAsTheIterationsListAnswersThemInBothFormats()
    {
        var p = await NewProjectAsync();
        var run = await SmallRunAsync(p);
        var rest = (await p.GetAsync($"/api/optimization/runs/{run}/iterations")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(3, rest.Count);

        var (response, jsonl) = await DownloadAsync(p, Export(run, "?what=iterations"));
        var lines = JsonLines(jsonl);
        Assert.Equal(rest.Count, lines.Count);
        for (var i = 0; i < rest.Count; i++)
        {
            AssertSameJson(rest[i], lines[i]);
        }

        Assert.Equal($"attachment; filename=\"run-{run}-iterations.jsonl\"", response.Content.Headers.GetValues("Content-Disposition").Single());
        AssertCsvMatches(rest, (await DownloadAsync(p, Export(run, "?what=iterations&format=csv"))).Body);
    }

    [Fact]
    public async Task ARunWithoutRowsExportsAnEmptyFileOrOnlyTheHeader()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("nothing yet");

        Assert.Equal("", (await DownloadAsync(p, Export(run))).Body);
        var csv = Csv.Parse((await DownloadAsync(p, Export(run, "?format=csv&what=iterations"))).Body);
        Assert.Equal(ExportColumns.Iterations.Select(c => c.Name), Assert.Single(csv).Select(c => c!));
    }

    // More samples than one page holds: the first page is 500 rows, the next ones sized by the rows seen.
    private static async Task<Guid> LargeRunAsync(ReadSideDriver p, int iterations, int perIteration)
    {
        var run = await p.CreateRunAsync("export pages");
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            await p.RecordSamplesAsync(run, Enumerable.Range(0, perIteration).Select(i => (object)new
            {
                iteration, sampleIndex = i, exampleId = $"ex-{i}", inputs = new { question = new string('q', i % 300) }, score = i % 2, success = true,
            }));
        }

        return run;
    }

    [Fact]
    public async Task ConcurrentExportsOfManyPagesAreEachWholeAndInOrder()
    {
        var p = await NewProjectAsync();
        var run = await LargeRunAsync(p, iterations: 3, perIteration: 1_500);
        var expected = Enumerable.Range(0, 3).SelectMany(iteration => Enumerable.Range(0, 1_500).Select(i => (iteration, i))).ToList();

        // Reads of other kinds at the same time: every page of every stream must reach the activation that holds it.
        var exports = Enumerable.Range(0, 4).Select(k => DownloadAsync(p, Export(run, k % 2 == 0 ? "" : "?format=csv"))).ToList();
        var reads = Enumerable.Range(0, 20).Select(_ => p.GetAsync($"/api/optimization/runs/{run}/trajectory")).ToList();
        await Task.WhenAll(reads);

        foreach (var (k, export) in exports.Select((e, k) => (k, e)))
        {
            var body = (await export).Body;
            var keys = k % 2 == 0
                ? JsonLines(body).Select(s => (s.GetProperty("iteration").GetInt32(), s.GetProperty("sampleIndex").GetInt32())).ToList()
                : Csv.Parse(body).Skip(1).Select(r => (int.Parse(r[1]!), int.Parse(r[2]!))).ToList();
            Assert.Equal(expected, keys);
        }
    }

    [Fact]
    public async Task AClientThatStopsReadingEndsTheExportAndTheNextOneIsWhole()
    {
        var p = await NewProjectAsync();
        var run = await LargeRunAsync(p, iterations: 2, perIteration: 2_000);

        using (var response = await p.Http.GetAsync(Export(run), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[4096];
            Assert.True(await stream.ReadAsync(buffer) > 0);
        }

        Assert.Equal(4_000, JsonLines((await DownloadAsync(p, Export(run))).Body).Count);
    }

    private static async Task RecordCandidatesAsync(ReadSideDriver p, Guid runId, IEnumerable<object> candidates)
    {
        var response = await p.Http.PostAsJsonAsync($"/api/optimization/runs/{runId}/candidates", new { candidates = candidates.ToArray() });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    // GET …/candidates as the export's rows: one per candidate, predictor and kind first, the statistics flattened.
    private static List<JsonElement> CandidateRows(JsonElement answer) =>
        answer.GetProperty("predictors").EnumerateArray().SelectMany(p => new[] { "instruction", "demos" }.SelectMany(kind =>
            p.GetProperty(kind).GetProperty("candidates").EnumerateArray().Select(c =>
            {
                var ci95 = c.GetProperty("minibatch").GetProperty("ci95");
                var row = new JsonObject
                {
                    ["predictor"] = p.GetProperty("predictor").GetString(),
                    ["kind"] = kind,
                    ["index"] = JsonNode.Parse(c.GetProperty("index").GetRawText()),
                    ["recorded"] = JsonNode.Parse(c.GetProperty("recorded").GetRawText()),
                    ["text"] = JsonNode.Parse(c.GetProperty("text").GetRawText()),
                    ["demos"] = JsonNode.Parse(c.GetProperty("demos").GetRawText()),
                    ["createdAt"] = JsonNode.Parse(c.GetProperty("createdAt").GetRawText()),
                    ["timesChosen"] = JsonNode.Parse(c.GetProperty("timesChosen").GetRawText()),
                    ["minibatchN"] = JsonNode.Parse(c.GetProperty("minibatch").GetProperty("n").GetRawText()),
                    ["minibatchMean"] = JsonNode.Parse(c.GetProperty("minibatch").GetProperty("mean").GetRawText()),
                    ["minibatchCi95Low"] = ci95.ValueKind == JsonValueKind.Null ? null : JsonNode.Parse(ci95[0].GetRawText()),
                    ["minibatchCi95High"] = ci95.ValueKind == JsonValueKind.Null ? null : JsonNode.Parse(ci95[1].GetRawText()),
                    ["fullN"] = JsonNode.Parse(c.GetProperty("full").GetProperty("n").GetRawText()),
                    ["fullMean"] = JsonNode.Parse(c.GetProperty("full").GetProperty("mean").GetRawText()),
                    ["bestScore"] = JsonNode.Parse(c.GetProperty("bestScore").GetRawText()),
                    ["bestMinibatchScore"] = JsonNode.Parse(c.GetProperty("bestMinibatchScore").GetRawText()),
                };
                return JsonDocument.Parse(row.ToJsonString()).RootElement.Clone();
            }))).ToList();

    [Fact]
    public async Task CandidatesExportAsTheCandidatesAnswerListsThemInBothFormats()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("export candidates");
        await RecordCandidatesAsync(p, run,
        [
            new { predictor = "10", kind = "instruction", index = 0, text = "Answer, \"briefly\".\r\nThen stop; ünïcödé ✓" },
            new { predictor = "2", kind = "demos", index = 1, demos = new object[] { new { question = "a,b?", answer = "\"c\"\n" }, new { question = "", answer = (string?)null } } },
            new { predictor = "2", kind = "instruction", index = 0, text = "Think step by step." },
            new { predictor = "generate.answer", kind = "instruction", index = 3, text = "," },
        ]);
        // Trials choose recorded candidates and one that never was (predictor 2's instruction 4), scored or not.
        var trials = new (string Kind, decimal? Score, int Instruction)[] { ("baseline", 0.4m, 0), ("minibatch", 0.5m, 0), ("minibatch", 0.7m, 4), ("minibatch", 0.6m, 0), ("full", 0.65m, 0), ("minibatch", null, 4) };
        for (var i = 0; i < trials.Length; i++)
        {
            await p.RecordIterationAsync(run, new
            {
                iteration = i, kind = trials[i].Kind, score = trials[i].Score,
                @params = new { predictors = new Dictionary<string, object> { ["2"] = new { instruction = trials[i].Instruction, demos = 1 }, ["10"] = new { instruction = 0 } } },
            });
        }

        var rest = CandidateRows(await p.GetAsync($"/api/optimization/runs/{run}/candidates"));
        Assert.Equal(["2/instruction/0", "2/instruction/4", "2/demos/1", "10/instruction/0", "generate.answer/instruction/3"],
            rest.Select(r => $"{r.GetProperty("predictor").GetString()}/{r.GetProperty("kind").GetString()}/{r.GetProperty("index").GetInt32()}"));

        var (jsonResponse, jsonl) = await DownloadAsync(p, Export(run, "?what=candidates"));
        AssertJsonLinesMatch(rest, jsonl);
        AssertAttachment(jsonResponse, "application/x-ndjson", $"run-{run}-candidates.jsonl");

        var (csvResponse, csv) = await DownloadAsync(p, Export(run, "?what=candidates&format=csv"));
        AssertCsvMatches(rest, csv);
        AssertAttachment(csvResponse, "text/csv", $"run-{run}-candidates.csv");
        // Quotes doubled, a line break kept inside a quoted cell, a lone comma quoted; an unrecorded candidate's text empty.
        Assert.Contains("\"Answer, \"\"briefly\"\".\r\nThen stop; ünïcödé ✓\"", csv);
        Assert.Contains(",\",\",", csv);
        var unrecorded = Csv.Parse(csv)[2];
        Assert.Equal(("2", "instruction", "4", "false", null, null), (unrecorded[0], unrecorded[1], unrecorded[2], unrecorded[3], unrecorded[4], unrecorded[5]));
    }

    [Fact]
    public async Task CandidatesOfManyPagesExportWholeAndInOrder()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("many candidates");
        // 3 predictors × 2 kinds × 150 = 900 candidates: more than a first page (500), in two calls.
        var all = new[] { "name", "10", "9" }.SelectMany(predictor => Enumerable.Range(0, 150).SelectMany(index => new object[]
        {
            new { predictor, kind = "instruction", index, text = $"instruction {index} of {predictor}" },
            new { predictor, kind = "demos", index, demos = new[] { new { question = $"q{index}", answer = predictor } } },
        })).ToList();
        await RecordCandidatesAsync(p, run, all.Take(450));
        await RecordCandidatesAsync(p, run, all.Skip(450));

        var expected = new[] { "9", "10", "name" }.SelectMany(predictor => new[] { "instruction", "demos" }
            .SelectMany(kind => Enumerable.Range(0, 150).Select(index => (predictor, kind, index)))).ToList();
        var lines = JsonLines((await DownloadAsync(p, Export(run, "?what=candidates"))).Body);
        Assert.Equal(expected, lines.Select(l => (l.GetProperty("predictor").GetString()!, l.GetProperty("kind").GetString()!, l.GetProperty("index").GetInt32())));
        var rows = Csv.Parse((await DownloadAsync(p, Export(run, "?what=candidates&format=csv"))).Body);
        Assert.Equal(expected, rows.Skip(1).Select(r => (r[0]!, r[1]!, int.Parse(r[2]!))));
        Assert.Equal(ExportColumns.Candidates.Select(c => c.Name), rows[0].Select(c => c!));
    }

    [Theory]
    [InlineData("?format=xml", "format")]
    [InlineData("?format=JSONL", "format")]
    [InlineData("?what=runs", "what")]
    [InlineData("?what=candidates&format=parquet", "format")]
    public async Task InvalidExportQueryIsAProblemNamingTheParameter(string query, string field)
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("validation");
        await p.ExpectInvalidAsync(Export(run, query), field);
    }

    [Fact]
    public async Task AnotherProjectsOrAnUnknownRunIsNotFound()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var run = await SmallRunAsync(owner);

        foreach (var query in new[] { "", "?format=csv", "?what=iterations", "?what=iterations&format=csv", "?what=candidates", "?what=candidates&format=csv" })
        {
            await stranger.GetProblemAsync(Export(run, query), HttpStatusCode.NotFound);
        }

        await owner.GetProblemAsync(Export(Guid.NewGuid()), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Export(Guid.NewGuid(), "?what=candidates"), HttpStatusCode.NotFound);
        Assert.Equal(4, JsonLines((await DownloadAsync(owner, Export(run))).Body).Count);
    }

    [Fact]
    public async Task TheDocumentDescribesTheExportAndTheExamplesPage()
    {
        using var anonymous = fixture.ClientWithKey(null);
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths");

        var ok = paths.GetProperty("/api/optimization/runs/{runId}/export").GetProperty("get").GetProperty("responses").GetProperty("200");
        Assert.True(ok.TryGetProperty("content", out var content)
            && content.EnumerateObject().Select(c => c.Name).Order().SequenceEqual([ExportStream.JsonLinesType, ExportStream.CsvType]), ok.ToString());
        var limit = paths.GetProperty("/api/optimization/runs/{runId}/examples").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == "limit").GetProperty("schema");
        Assert.Equal((50, 1, 500), (limit.GetProperty("default").GetInt32(), limit.GetProperty("minimum").GetInt32(), limit.GetProperty("maximum").GetInt32()));
    }
}
