using System.Net;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

[Collection(GatewayCollection.Name)]
public sealed class IngestApiTests(GatewayFixture fixture)
{
    [Fact]
    public async Task ABatchAnswersAcceptedInsertedAndDuplicates()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        var first = await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(3, 0, 10))).JsonAsync(HttpStatusCode.OK);
        var retry = await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(3, 5, 10))).JsonAsync(HttpStatusCode.OK);

        Assert.Equal((10, 10, 0), (first.GetProperty("accepted").GetInt32(), first.GetProperty("inserted").GetInt32(), first.GetProperty("duplicates").GetInt32()));
        Assert.Equal((10, 5, 5), (retry.GetProperty("accepted").GetInt32(), retry.GetProperty("inserted").GetInt32(), retry.GetProperty("duplicates").GetInt32()));
        var run = await client.GetRunAsync(runId);
        Assert.Equal(15, run.GetProperty("samplesEvaluated").GetInt32());
        Assert.Equal("running", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("p95LatencyMs").GetDouble() > 800);
    }

    [Fact]
    public async Task IterationsAreRecordedStartedThenCompletedAndFeedTheBestScore()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        var url = $"/api/optimization/runs/{runId}/iterations";

        var started = await (await client.PostJsonAsync(url, new { iteration = 0, kind = "baseline", startedAt = "2026-11-26T10:00:00Z" })).JsonAsync(HttpStatusCode.Created);
        var completed = await (await client.PostJsonAsync(url, new { iteration = 0, kind = "baseline", score = 0.41, completedAt = "2026-11-26T10:00:41Z" })).JsonAsync(HttpStatusCode.OK);
        var repeated = await (await client.PostJsonAsync(url, new { iteration = 0, kind = "baseline", score = 0.41 })).JsonAsync(HttpStatusCode.OK);
        await (await client.PostJsonAsync(url, new
        {
            iteration = 3, kind = "minibatch", score = 0.91, @params = new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2, demos = 1 } } },
            samplesEvaluated = 35, samplesSuccessful = 34, samplesFailed = 1, promptTokens = 20480, completionTokens = 2210, costUsd = 0.0123,
        })).JsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync(url, new { iteration = 0, kind = "baseline", score = 0.5 })).ProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("inserted", started.GetProperty("outcome").GetString());
        Assert.Equal("updated", completed.GetProperty("outcome").GetString());
        Assert.Equal("duplicate", repeated.GetProperty("outcome").GetString());
        var run = await client.GetRunAsync(runId);
        Assert.Equal(0.41m, run.GetProperty("bestScore").GetDecimal());
        Assert.Equal(0, run.GetProperty("bestIteration").GetInt32());
        Assert.Equal(0.91m, run.GetProperty("bestMinibatchScore").GetDecimal());
        Assert.Equal(2, run.GetProperty("completedIterations").GetInt32());
    }

    [Fact]
    public async Task ProgressIsAHeartbeatWithPhaseAndMessage()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        var run = await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/progress",
            new { phase = "searching", currentIteration = 3, message = "trial 3/18" })).JsonAsync(HttpStatusCode.OK);

        Assert.Equal("searching", run.GetProperty("phase").GetString());
        Assert.Equal("trial 3/18", run.GetProperty("message").GetString());
        Assert.Equal(3, run.GetProperty("currentIteration").GetInt32());
        Assert.Equal("running", run.GetProperty("status").GetString());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, run.GetProperty("lastHeartbeatAt").ValueKind);
    }

    [Fact]
    public async Task AnEndedRunRefusesWritesWithAConflict()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await (await client.PatchAsync($"/api/optimization/runs/{runId}",
            new StringContent("""{"status":"cancelled"}""", System.Text.Encoding.UTF8, "application/json"))).JsonAsync(HttpStatusCode.OK);

        await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(0, 0, 1))).ProblemAsync(HttpStatusCode.Conflict);
        await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/iterations", new { iteration = 1, kind = "full", score = 0.5 })).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(0, await OptimizationRuns.Tests.Runs.RunScenario.ReadStoredSampleCountAsync(runId));
    }

    [Fact]
    public async Task OmittedSampleFieldsTakeTheirDocumentedDefaults()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();

        await (await client.PostRawAsync($"/api/optimization/runs/{runId}/samples",
            """{"samples":[{"iteration":0,"sampleIndex":0},{"iteration":0,"sampleIndex":1,"error":"timeout"}]}""")).JsonAsync(HttpStatusCode.OK);

        var samples = (await (await client.GetAsync($"/api/optimization/runs/{runId}/samples")).JsonAsync(HttpStatusCode.OK))
            .GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([true, false], samples.Select(s => s.GetProperty("success").GetBoolean()));
        Assert.All(samples, s => Assert.Equal((0, 0, 0m),
            (s.GetProperty("promptTokens").GetInt32(), s.GetProperty("completionTokens").GetInt32(), s.GetProperty("costUsd").GetDecimal())));
        Assert.EndsWith("Z", samples[0].GetProperty("createdAt").GetString());
    }

    [Fact]
    public async Task JsonValuesAreAnsweredAsTheJsonThatWasSent()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync(
            """{"runName":"raw","optimizerType":"miprov2","config":{"auto":"light","nested":{"a":[1,2.50,null],"é":"\u00e9\n"}}}""");
        const string inputs = """{"question":"Who wrote \"Hamlet\"?","context":["a","b"],"k":3}""";

        await (await client.PostRawAsync($"/api/optimization/runs/{runId}/samples",
            $$"""{"samples":[{"iteration":0,"sampleIndex":0,"inputs":{{inputs}},"expected":42,"prediction":"Shakespeare"}]}""")).JsonAsync(HttpStatusCode.OK);

        var run = await client.GetRunAsync(runId);
        Assert.True(JsonElement.DeepEquals(
            JsonDocument.Parse("""{"auto":"light","nested":{"a":[1,2.50,null],"é":"é\n"}}""").RootElement, run.GetProperty("config")));
        var sample = (await (await client.GetAsync($"/api/optimization/runs/{runId}/samples")).JsonAsync(HttpStatusCode.OK))
            .GetProperty("items")[0];
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(inputs).RootElement, sample.GetProperty("inputs")));
        Assert.Equal(42, sample.GetProperty("expected").GetInt32());
        Assert.Equal("Shakespeare", sample.GetProperty("prediction").GetString());
    }
}
