using System.Net;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;
using static OptimizationRuns.Tests.Gateway.ReadSideDriver;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>GET …/runs/{runId}/iterations and …/iterations/best through real HTTP.</summary>
[Collection(GatewayCollection.Name)]
public sealed class IterationsApiTests(GatewayFixture fixture)
{
    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    private static string Iterations(Guid runId) => $"/api/optimization/runs/{runId}/iterations";

    [Fact]
    public async Task IterationsComeInOrderWithEverythingRecorded()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("trials");
        await p.RecordIterationAsync(run, new
        {
            iteration = 2, kind = "full", score = 0.61m,
            @params = new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2, demos = 1 } } },
            candidateProgram = new { instructions = new[] { "Answer briefly." } },
            samplesEvaluated = 200, samplesSuccessful = 190, samplesFailed = 10, promptTokens = 20480, completionTokens = 2210,
            costUsd = 0.0123m, startedAt = "2026-11-26T10:00:00Z", completedAt = "2026-11-26T10:00:41.5Z",
            metadata = new { note = "full eval" }, traceId = "4bf92f3577b34da6a3ce929d0e0e4736", spanId = "00f067aa0ba902b7",
        });
        await p.RecordIterationAsync(run, 0, "baseline", 0.41m);
        await p.RecordIterationAsync(run, 1, "minibatch", 0.7m);
        // Iteration 3 exists only because its samples arrived.
        await p.RecordSamplesAsync(run, [
            new { iteration = 3, sampleIndex = 0, success = true, score = 1.0m, latencyMs = 100.0, promptTokens = 10, completionTokens = 2, costUsd = 0.001m },
            new { iteration = 3, sampleIndex = 1, success = false, error = "timeout", latencyMs = 300.0, promptTokens = 20, completionTokens = 0, costUsd = 0.002m },
        ]);

        var list = await p.GetAsync(Iterations(run));

        var items = list.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3], items.Select(i => i.GetProperty("iteration").GetInt32()));
        Assert.Equal(JsonValueKind.Null, list.GetProperty("nextCursor").ValueKind);
        Assert.Equal(["baseline", "minibatch", "full", "minibatch"], items.Select(i => i.GetProperty("kind").GetString()));
        Assert.Equal([false, false, true, false], items.Select(i => i.GetProperty("isBest").GetBoolean()));

        var full = items[2];
        Assert.Equal(0.61m, full.GetProperty("score").GetDecimal());
        AssertJson("""{"predictors":{"0":{"instruction":2,"demos":1}}}""", full.GetProperty("params"));
        AssertJson("""{"instructions":["Answer briefly."]}""", full.GetProperty("candidateProgram"));
        Assert.Equal((200, 190, 10), (full.GetProperty("samplesEvaluated").GetInt32(), full.GetProperty("samplesSuccessful").GetInt32(),
            full.GetProperty("samplesFailed").GetInt32()));
        Assert.Equal((20480L, 2210L, 22690L), (full.GetProperty("promptTokens").GetInt64(), full.GetProperty("completionTokens").GetInt64(),
            full.GetProperty("totalTokens").GetInt64()));
        Assert.Equal(0.0123m, full.GetProperty("costUsd").GetDecimal());
        Assert.Equal(new DateTime(2026, 11, 26, 10, 0, 0, DateTimeKind.Utc), full.GetProperty("startedAt").GetDateTime());
        Assert.EndsWith("Z", full.GetProperty("completedAt").GetString());
        Assert.Equal(new DateTime(2026, 11, 26, 10, 0, 41, 500, DateTimeKind.Utc), full.GetProperty("completedAt").GetDateTime().ToUniversalTime());
        Assert.Equal(41500, full.GetProperty("durationMs").GetInt64());
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", full.GetProperty("traceId").GetString());
        Assert.Equal("00f067aa0ba902b7", full.GetProperty("spanId").GetString());
        AssertJson("""{"note":"full eval"}""", full.GetProperty("metadata"));

        var baseline = items[0];
        Assert.Equal(0.41m, baseline.GetProperty("score").GetDecimal());
        Assert.Equal("{}", baseline.GetProperty("params").GetRawText());
        Assert.Equal(JsonValueKind.Null, baseline.GetProperty("candidateProgram").ValueKind);
        Assert.Equal(JsonValueKind.Null, baseline.GetProperty("traceId").ValueKind);
        Assert.Equal(JsonValueKind.Null, baseline.GetProperty("durationMs").ValueKind);

        var announced = items[3];
        Assert.Equal(JsonValueKind.Null, announced.GetProperty("score").ValueKind);
        Assert.Equal((2, 1, 1), (announced.GetProperty("samplesEvaluated").GetInt32(), announced.GetProperty("samplesSuccessful").GetInt32(),
            announced.GetProperty("samplesFailed").GetInt32()));
        Assert.Equal((30L, 2L), (announced.GetProperty("promptTokens").GetInt64(), announced.GetProperty("completionTokens").GetInt64()));
        Assert.Equal(0.003m, announced.GetProperty("costUsd").GetDecimal());
        Assert.Equal(200.0, announced.GetProperty("avgLatencyMs").GetDouble());
    }

    [Fact]
    public async Task BestIterationIsTheBestBaselineOrFullEvaluationNotAMinibatch()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("best");
        await p.RecordIterationAsync(run, 0, "baseline", 0.4m);
        await p.RecordIterationAsync(run, 1, "minibatch", 0.9m);
        await p.RecordIterationAsync(run, 2, "full", 0.6m);
        await p.RecordIterationAsync(run, 3, "full", 0.55m);

        var best = await p.GetAsync($"{Iterations(run)}/best");

        Assert.Equal(2, best.GetProperty("iteration").GetInt32());
        Assert.Equal("full", best.GetProperty("kind").GetString());
        Assert.Equal(0.6m, best.GetProperty("score").GetDecimal());
        Assert.True(best.GetProperty("isBest").GetBoolean());
    }

    [Fact]
    public async Task ARunWithoutABestIterationAnswersNotFoundAndAnEmptyList()
    {
        var p = await NewProjectAsync();
        var empty = await p.CreateRunAsync("no iterations");
        var minibatchOnly = await p.CreateRunAsync("minibatches only");
        await p.RecordIterationAsync(minibatchOnly, 0, "minibatch", 0.9m);

        Assert.Empty((await p.GetAsync(Iterations(empty))).GetProperty("items").EnumerateArray());
        var problem = await p.GetProblemAsync($"{Iterations(empty)}/best", HttpStatusCode.NotFound);
        Assert.Contains("no best iteration", problem.GetProperty("detail").GetString());
        await p.GetProblemAsync($"{Iterations(minibatchOnly)}/best", HttpStatusCode.NotFound);
        Assert.Single((await p.GetAsync(Iterations(minibatchOnly))).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task AnotherProjectsOrAnUnknownRunIsNotFound()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var run = await owner.CreateRunAsync("private");
        await owner.RecordIterationAsync(run, 0, "full", 0.5m);

        foreach (var url in new[] { Iterations(run), $"{Iterations(run)}/best", Iterations(Guid.NewGuid()), $"{Iterations(Guid.NewGuid())}/best" })
        {
            var problem = await stranger.GetProblemAsync(url, HttpStatusCode.NotFound);
            Assert.DoesNotContain("best iteration", problem.GetProperty("detail").GetString());
        }

        Assert.Single((await owner.GetAsync(Iterations(run))).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task ParamsFilterReturnsExactlyTheTrialsThatChoseTheCandidates()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("trials");
        for (var k = 0; k < 12; k++)
        {
            await p.RecordIterationAsync(run, new
            {
                iteration = k, kind = k == 0 ? "baseline" : "minibatch", score = 0.5m,
                @params = new
                {
                    predictors = new Dictionary<string, object>
                    {
                        ["0"] = new { instruction = k % 3, demos = k % 2 },
                        ["1"] = new { instruction = k % 4, demos = 0 },
                    },
                },
            });
        }

        // Iteration 12 exists only because its samples arrived: its params are {}.
        await p.RecordSamplesAsync(run, [new { iteration = 12, sampleIndex = 0, success = true, score = 1.0m }]);
        var other = await p.CreateRunAsync("another run, same choices");
        await p.RecordIterationAsync(other, new { iteration = 0, kind = "full", score = 0.5m, @params = new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2 } } } });

        Assert.Equal([2, 5, 8, 11], await TrialsAsync(p, run, new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2 } } }));
        Assert.Equal([5], await TrialsAsync(p, run, new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2 }, ["1"] = new { instruction = 1 } } }));
        Assert.Equal([3, 9], await TrialsAsync(p, run, new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 0, demos = 1 } } }));
        Assert.Empty(await TrialsAsync(p, run, new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 7 } } }));
        Assert.Empty(await TrialsAsync(p, run, new { predictors = new Dictionary<string, object> { ["2"] = new { } } }));
        Assert.Equal(Enumerable.Range(0, 13), await TrialsAsync(p, run, new { }));
        Assert.Equal([0], await TrialsAsync(p, other, new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2 } } }));

        var filtered = await p.GetAsync($"{Iterations(run)}?params={Query(new { predictors = new Dictionary<string, object> { ["1"] = new { instruction = 3 } } })}");
        var item = filtered.GetProperty("items").EnumerateArray().First();
        Assert.Equal(3, item.GetProperty("iteration").GetInt32());
        AssertJson("""{"predictors":{"0":{"instruction":0,"demos":1},"1":{"instruction":3,"demos":0}}}""", item.GetProperty("params"));
        Assert.Equal(JsonValueKind.Null, filtered.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("params=%7Bnot%20json")]
    [InlineData("params=%5B1%5D")]
    [InlineData("params=2")]
    [InlineData("params=null")]
    public async Task InvalidParamsFilterIsAProblemNamingParams(string query)
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("trials");

        await p.ExpectInvalidAsync($"{Iterations(run)}?{query}", "params");
        await p.ExpectInvalidAsync($"{Iterations(run)}?params={Query($$"""{"k":"{{new string('x', 4_090)}}"}""")}", "params");
    }

    [Fact]
    public async Task ParamsFilterOnAnotherProjectsRunIsNotFound()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var run = await owner.CreateRunAsync("private");
        await owner.RecordIterationAsync(run, new { iteration = 0, kind = "full", score = 0.5m, @params = new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2 } } } });
        var filter = Query(new { predictors = new Dictionary<string, object> { ["0"] = new { instruction = 2 } } });

        await stranger.GetProblemAsync($"{Iterations(run)}?params={filter}", HttpStatusCode.NotFound);
        await stranger.GetProblemAsync($"{Iterations(Guid.NewGuid())}?params={filter}", HttpStatusCode.NotFound);
        Assert.Single((await owner.GetAsync($"{Iterations(run)}?params={filter}")).GetProperty("items").EnumerateArray());
    }

    private static async Task<List<int>> TrialsAsync(ReadSideDriver p, Guid runId, object filter) =>
        (await p.GetAsync($"{Iterations(runId)}?params={Query(filter)}")).GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("iteration").GetInt32()).ToList();
}
