using System.Net;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;
using static OptimizationRuns.Tests.Gateway.ReadSideDriver;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>GET …/runs/{runId}/samples and …/traces/{traceId}/samples through real HTTP.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SamplesApiTests(GatewayFixture fixture)
{
    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    private static string Samples(Guid runId) => $"/api/optimization/runs/{runId}/samples";

    private static string Trace(string traceId) => $"/api/optimization/traces/{traceId}/samples";

    private static string NewTraceId() => Guid.NewGuid().ToString("N");

    // Two iterations of ten samples: sample i scores i/10 and fails when i is a multiple of 3.
    private static async Task<Guid> RunWithSamplesAsync(ReadSideDriver p, string? traceId = null)
    {
        var run = await p.CreateRunAsync("samples");
        await p.RecordSamplesAsync(run, Enumerable.Range(0, 2).SelectMany(iteration => Enumerable.Range(0, 10).Select(i => (object)new
        {
            iteration,
            sampleIndex = i,
            exampleId = $"ex-{iteration}-{i}",
            inputs = new { question = $"q{i}" },
            expected = new { answer = $"a{i}" },
            prediction = new { answer = i % 3 == 0 ? "wrong" : $"a{i}" },
            score = i / 10m,
            success = i % 3 != 0,
            error = i % 3 == 0 ? "wrong answer" : null,
            latencyMs = 100.0 + i,
            promptTokens = 50 + i,
            completionTokens = 5,
            costUsd = 0.0001m,
            traceId = i == 4 ? traceId : null,
            spanId = i == 4 && traceId is not null ? "00f067aa0ba902b7" : null,
        })));
        return run;
    }

    private static (int Iteration, int SampleIndex) Key(JsonElement sample) =>
        (sample.GetProperty("iteration").GetInt32(), sample.GetProperty("sampleIndex").GetInt32());

    private static IEnumerable<(int, int)> Keys(IEnumerable<int> iterations, IEnumerable<int> indexes) =>
        iterations.SelectMany(iteration => indexes.Select(i => (iteration, i)));

    [Fact]
    public async Task PagesFollowIterationAndSampleIndexToTheEnd()
    {
        var p = await NewProjectAsync();
        var run = await RunWithSamplesAsync(p);

        var first = await p.GetAsync($"{Samples(run)}?limit=7");
        var (items, pages) = await p.AllPagesAsync($"{Samples(run)}?limit=7");

        Assert.Equal(7, first.GetProperty("items").GetArrayLength());
        Assert.Equal(Keys([0, 1], Enumerable.Range(0, 10)), items.Select(Key));
        Assert.Equal(3, pages);
        Assert.Equal(20, (await p.GetAsync(Samples(run))).GetProperty("items").GetArrayLength());
        var failed = items[13];
        Assert.Equal(run, failed.GetProperty("runId").GetGuid());
        Assert.Equal((1, 3), Key(failed));
        Assert.Equal("ex-1-3", failed.GetProperty("exampleId").GetString());
        AssertJson("""{"question":"q3"}""", failed.GetProperty("inputs"));
        AssertJson("""{"answer":"a3"}""", failed.GetProperty("expected"));
        AssertJson("""{"answer":"wrong"}""", failed.GetProperty("prediction"));
        Assert.Equal(0.3m, failed.GetProperty("score").GetDecimal());
        Assert.False(failed.GetProperty("success").GetBoolean());
        Assert.Equal("wrong answer", failed.GetProperty("error").GetString());
        Assert.Equal(103.0, failed.GetProperty("latencyMs").GetDouble());
        Assert.Equal((53, 5), (failed.GetProperty("promptTokens").GetInt32(), failed.GetProperty("completionTokens").GetInt32()));
        Assert.Equal(0.0001m, failed.GetProperty("costUsd").GetDecimal());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("traceId").ValueKind);
    }

    [Fact]
    public async Task FiltersSelectExactlyTheirSamplesAndPageWithTheCursor()
    {
        var p = await NewProjectAsync();
        var run = await RunWithSamplesAsync(p);

        Assert.Equal(Keys([1], Enumerable.Range(0, 10)),
            (await p.AllPagesAsync($"{Samples(run)}?iteration=1&limit=4")).Items.Select(Key));
        Assert.Equal(Keys([0, 1], [0, 3, 6, 9]),
            (await p.AllPagesAsync($"{Samples(run)}?success=false&limit=3")).Items.Select(Key));
        Assert.Equal(Keys([0, 1], [5, 6, 7]),
            (await p.AllPagesAsync($"{Samples(run)}?minScore=0.5&maxScore=0.7&limit=5")).Items.Select(Key));
        var (combined, pages) = await p.AllPagesAsync($"{Samples(run)}?iteration=0&success=true&minScore=0.5&limit=2");
        Assert.Equal(Keys([0], [5, 7, 8]), combined.Select(Key));
        Assert.Equal(2, pages);
        Assert.Empty((await p.GetAsync($"{Samples(run)}?iteration=7")).GetProperty("items").EnumerateArray());
    }

    // Trials 0 baseline, 1 minibatch, 2 full, and samples of a trial 3 never recorded (its samples make it a minibatch
    // trial, the default kind): twelve examples each, where ex-1 fails with an error and ex-2 without one.
    private static async Task<Guid> RunWithKindsAsync(ReadSideDriver p)
    {
        var run = await p.CreateRunAsync("kinds");
        foreach (var (iteration, kind) in new[] { (0, "baseline"), (1, "minibatch"), (2, "full") })
        {
            await p.RecordIterationAsync(run, iteration, kind, 0.5m);
        }

        await p.RecordSamplesAsync(run, Enumerable.Range(0, 4).SelectMany(iteration => Enumerable.Range(0, 12).Select(i => (object)new
        {
            iteration,
            sampleIndex = i,
            exampleId = $"ex-{i}",
            score = i is 1 or 2 ? 0m : 1m,
            success = i is not (1 or 2),
            error = i == 1 ? "timeout" : null,
        })));
        return run;
    }

    [Fact]
    public async Task KindExampleAndErrorFiltersSelectExactlyTheirSamplesAcrossPages()
    {
        var p = await NewProjectAsync();
        var run = await RunWithKindsAsync(p);
        var other = await RunWithKindsAsync(p);

        async Task<IEnumerable<(int, int)>> AllAsync(string query) =>
            (await p.AllPagesAsync($"{Samples(run)}?{query}")).Items.Select(Key);

        Assert.Equal(Keys([2], Enumerable.Range(0, 12)), await AllAsync("kind=full&limit=5"));
        Assert.Equal(Keys([0], Enumerable.Range(0, 12)), await AllAsync("kind=baseline&limit=5"));
        Assert.Equal(Keys([1, 3], Enumerable.Range(0, 12)), await AllAsync("kind=minibatch&limit=5"));
        // Exact: ex-1 is not ex-10 or ex-11.
        Assert.Equal(Keys([0, 1, 2, 3], [1]), await AllAsync("exampleId=ex-1&limit=3"));
        Assert.Empty(await AllAsync("exampleId=EX-1"));
        // Errors only is the samples with an error, not every failure (ex-2 failed without one).
        Assert.Equal(Keys([0, 1, 2, 3], [1]), await AllAsync("errorsOnly=true&limit=1"));
        Assert.Equal(Keys([0, 1, 2, 3], [1, 2]), await AllAsync("success=false&limit=3"));
        Assert.Equal(48, (await AllAsync("errorsOnly=false&limit=1000")).Count());
        var (combined, pages) = await p.AllPagesAsync($"{Samples(run)}?kind=minibatch&errorsOnly=true&exampleId=ex-1&limit=1");
        Assert.Equal(Keys([1, 3], [1]), combined.Select(Key));
        Assert.Equal(2, pages);
        Assert.Equal(Keys([2], Enumerable.Range(0, 12).Where(i => i is not (1 or 2))), await AllAsync("kind=full&minScore=1&limit=4"));
        Assert.Empty(await AllAsync("kind=full&exampleId=ex-99"));
        Assert.All((await p.AllPagesAsync($"{Samples(other)}?kind=full&limit=7")).Items,
            s => Assert.Equal((other, 2), (s.GetProperty("runId").GetGuid(), s.GetProperty("iteration").GetInt32())));
    }

    [Theory]
    [InlineData("kind=trial", "kind")]
    [InlineData("kind=Full", "kind")]
    [InlineData("errorsOnly=yes", "errorsOnly")]
    [InlineData("errorsOnly=1", "errorsOnly")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("cursor=garbage", "cursor")]
    [InlineData("minScore=2", "minScore")]
    [InlineData("maxScore=abc", "maxScore")]
    [InlineData("minScore=0.8&maxScore=0.2", "maxScore")]
    [InlineData("success=yes", "success")]
    [InlineData("iteration=-1", "iteration")]
    public async Task InvalidQueryIsAProblemNamingTheParameter(string query, string field)
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("validation");
        await p.ExpectInvalidAsync($"{Samples(run)}?{query}", field);
    }

    [Fact]
    public async Task AnExampleIdNoSampleCouldCarryIsRefused()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("validation");
        await p.ExpectInvalidAsync($"{Samples(run)}?exampleId={new string('x', 201)}", "exampleId");
        await p.ExpectInvalidAsync($"{Samples(run)}?exampleId=ex%00-1", "exampleId");
        Assert.Empty((await p.GetAsync($"{Samples(run)}?exampleId={new string('x', 200)}")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task ACursorOfAnotherRunOrListIsRefused()
    {
        var p = await NewProjectAsync();
        var run = await RunWithSamplesAsync(p);
        var other = await RunWithSamplesAsync(p);
        var cursor = (await p.GetAsync($"{Samples(run)}?limit=2")).GetProperty("nextCursor").GetString()!;
        var runsCursor = (await p.GetAsync("/api/optimization/runs?limit=1")).GetProperty("nextCursor").GetString()!;

        Assert.Equal(2, (await p.GetAsync($"{Samples(run)}?limit=2&cursor={cursor}")).GetProperty("items").GetArrayLength());
        await p.ExpectInvalidAsync($"{Samples(other)}?limit=2&cursor={cursor}", "cursor");
        await p.ExpectInvalidAsync($"{Samples(run)}?cursor={runsCursor}", "cursor");
        await p.ExpectInvalidAsync($"/api/optimization/runs?cursor={cursor}", "cursor");
    }

    [Fact]
    public async Task AnotherProjectsOrAnUnknownRunIsNotFound()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var run = await RunWithSamplesAsync(owner);
        var strangersRun = await stranger.CreateRunAsync("theirs");

        await stranger.GetProblemAsync(Samples(run), HttpStatusCode.NotFound);
        await stranger.GetProblemAsync($"{Samples(run)}?iteration=0&success=true", HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Samples(Guid.NewGuid()), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Samples(strangersRun), HttpStatusCode.NotFound);
        Assert.Empty((await stranger.GetAsync(Samples(strangersRun))).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task TraceSamplesAreTheProjectsSamplesWithThatTrace()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var traceId = NewTraceId();
        var first = await RunWithSamplesAsync(owner, traceId);
        var second = await RunWithSamplesAsync(owner, traceId);
        await RunWithSamplesAsync(owner);
        var strangers = await RunWithSamplesAsync(stranger, traceId);

        var expected = new[] { first, second }.OrderBy(UuidOrder, StringComparer.Ordinal)
            .SelectMany(run => new[] { (run, 0), (run, 1) }).ToList();
        var (items, pages) = await owner.AllPagesAsync($"{Trace(traceId)}?limit=3");

        Assert.Equal(expected, items.Select(s => (s.GetProperty("runId").GetGuid(), s.GetProperty("iteration").GetInt32())));
        Assert.Equal(2, pages);
        Assert.All(items, s => Assert.Equal((4, traceId, "00f067aa0ba902b7"),
            (s.GetProperty("sampleIndex").GetInt32(), s.GetProperty("traceId").GetString(), s.GetProperty("spanId").GetString())));
        var theirs = (await stranger.GetAsync(Trace(traceId))).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([strangers, strangers], theirs.Select(s => s.GetProperty("runId").GetGuid()));
        Assert.Equal(4, (await owner.GetAsync(Trace(traceId.ToUpperInvariant()))).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task ATraceWithoutSamplesInTheProjectIsNotFound()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var traceId = NewTraceId();
        await RunWithSamplesAsync(owner, traceId);

        await stranger.GetProblemAsync(Trace(traceId), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Trace(NewTraceId()), HttpStatusCode.NotFound);
        await owner.ExpectInvalidAsync(Trace("not-a-trace"), "traceId");
        await owner.ExpectInvalidAsync($"{Trace(traceId)}?limit=1001", "limit");
        await owner.ExpectInvalidAsync($"{Trace(traceId)}?cursor=garbage", "cursor");
    }
}
