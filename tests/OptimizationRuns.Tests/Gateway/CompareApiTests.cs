using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;
using static OptimizationRuns.Tests.Gateway.ReadSideDriver;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>GET /api/optimization/compare and …/compare/examples through real HTTP, on runs recorded as a worker would.</summary>
[Collection(GatewayCollection.Name)]
public sealed class CompareApiTests(GatewayFixture fixture)
{
    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    private static string Compare(string query) => $"/api/optimization/compare?{query}";

    private static string Examples(string query) => $"/api/optimization/compare/examples?{query}";

    /// <summary>One sample as a worker sends it; trace ids are made from the side, run position and index.</summary>
    private sealed record Example(
        string? Id, decimal? Score, bool Success = true, string? Error = null, int? Index = null, object? Inputs = null,
        decimal Cost = 0.001m, int PromptTokens = 100, int CompletionTokens = 10, double? Latency = 100)
    {
        public object ToSample(int iteration, string prediction) => new
        {
            iteration, sampleIndex = Index, exampleId = Id, inputs = Inputs ?? new { question = $"q-{Id}" },
            expected = new { answer = $"expected-{Id}" }, prediction = new { answer = prediction }, score = Score, success = Success,
            error = Error, latencyMs = Latency, promptTokens = PromptTokens, completionTokens = CompletionTokens, costUsd = Cost,
            traceId = TraceId(prediction), spanId = "00f067aa0ba902b7",
        };

        public static string TraceId(string prediction) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(prediction)));
    }

    private static async Task<Guid> RunAsync(ReadSideDriver p, string name, params (int Iteration, string Kind, decimal? Score, Example[] Samples)[] iterations)
    {
        var run = await p.CreateRunAsync(name);
        foreach (var (iteration, kind, score, samples) in iterations)
        {
            await p.RecordIterationAsync(run, iteration, kind, score);
            if (samples.Length > 0)
            {
                await p.RecordSamplesAsync(run, samples.Select((s, i) => (s with { Index = s.Index ?? i }).ToSample(iteration, $"{name}-{iteration}-{s.Id ?? i.ToString()}")));
            }
        }

        return run;
    }

    // A's ex-00…ex-11 against B's ex-00…ex-09, ex-12, ex-13. Paired deltas (B − A): +1, +1, +0.25, +0.2 (improved),
    // −1, −0.2 (regressed), 0, 0, 0 (unchanged), and ex-09 unscored in B. Success flips: ex-00, ex-01, ex-08 gained,
    // ex-09 lost. B costs 0.002 (A 0.001), uses 170 tokens (A 110) and takes 150 ms (A 100; none for ex-09).
    private static readonly Example[] Before =
    [
        new("ex-00", 0.0m, false, "parse error"), new("ex-01", 0.0m, false, "parse error"), new("ex-02", 0.5m), new("ex-03", 0.2m),
        new("ex-04", 1.0m), new("ex-05", 0.8m), new("ex-06", 1.0m), new("ex-07", 0.5m), new("ex-08", 0.0m, false, "timeout"),
        new("ex-09", 0.7m), new("ex-10", 0.3m), new("ex-11", 0.9m),
    ];

    private static readonly Example[] After = new Example[]
    {
        new("ex-00", 1.0m), new("ex-01", 1.0m), new("ex-02", 0.75m), new("ex-03", 0.4m), new("ex-04", 0.0m), new("ex-05", 0.6m),
        new("ex-06", 1.0m), new("ex-07", 0.5m), new("ex-08", 0.0m), new("ex-09", null, false, "timeout", Latency: null),
        new("ex-12", 0.5m), new("ex-13", 0.5m),
    }.Select(e => e with { Cost = 0.002m, PromptTokens = 150, CompletionTokens = 20, Latency = e.Latency is null ? null : 150 }).ToArray();

    private static async Task<(Guid Before, Guid After)> TwoRunsAsync(ReadSideDriver p) => (
        await RunAsync(p, "before", (0, "baseline", 0.3m, []), (1, "full", 0.5m, Before)),
        await RunAsync(p, "after", (0, "baseline", 0.3m, []), (1, "minibatch", 0.9m, []), (2, "full", 0.6m, After)));

    private static List<string> Keys(IEnumerable<JsonElement> items) => items.Select(i => i.GetProperty("exampleKey").GetString()!).ToList();

    [Fact]
    public async Task TwoRunsAreComparedExampleByExample()
    {
        var p = await NewProjectAsync();
        var (before, after) = await TwoRunsAsync(p);

        var c = await p.GetAsync(Compare($"a={before}&b={after}"));

        // Each run's best full evaluation, by default.
        Assert.Equal((before, 1, "full", true), Side(c.GetProperty("a")));
        Assert.Equal((after, 2, "full", true), Side(c.GetProperty("b")));
        Assert.Equal((12, 12), (Int(c, "samplesA"), Int(c, "samplesB")));
        Assert.Equal((10, 4, 2, 3, 1, 2, 2), (Int(c, "paired"), Int(c, "improved"), Int(c, "regressed"), Int(c, "unchanged"),
            Int(c, "unscored"), Int(c, "onlyA"), Int(c, "onlyB")));
        Assert.Equal(10.0 / 14, Number(c, "overlap"), 1e-12);
        Assert.False(c.GetProperty("lowOverlap").GetBoolean());
        // Nine scored pairs: A sums 4.0, B 5.25, the deltas 1.25; their variance 0.3711111 (hand: (3.1425 − 9 · m²) / 8).
        Assert.Equal(4.0 / 9, Number(c, "meanScoreA"), 1e-12);
        Assert.Equal(5.25 / 9, Number(c, "meanScoreB"), 1e-12);
        Assert.Equal(1.25 / 9, Number(c, "meanDelta"), 1e-12);
        // m ± t(0.975, 8) · √(0.3711111 / 9) with t = 2.3060041.
        var ci = c.GetProperty("meanDeltaCi");
        Assert.Equal((0.95, "paired-t"), (ci.GetProperty("level").GetDouble(), ci.GetProperty("method").GetString()));
        Assert.Equal(-0.3293751489405784, ci.GetProperty("low").GetDouble(), 1e-9);
        Assert.Equal(0.6071529267183562, ci.GetProperty("high").GetDouble(), 1e-9);
        // Gained 3, lost 1: p = 2 · (1 + 4) / 16.
        Assert.Equal((7, 9, 3, 1), (Int(c, "successA"), Int(c, "successB"), Int(c, "successGained"), Int(c, "successLost")));
        Assert.Equal(0.625, Number(c, "mcnemarP"), 1e-12);
        Assert.Equal((0.001, 0.002, 0.001), (Number(c, "meanCostUsdA"), Number(c, "meanCostUsdB"), Number(c, "meanCostUsdDelta")));
        Assert.Equal((110.0, 170.0, 60.0), (Number(c, "meanTokensA"), Number(c, "meanTokensB"), Number(c, "meanTokensDelta")));
        Assert.Equal((100.0, 150.0, 50.0), (Number(c, "meanLatencyMsA"), Number(c, "meanLatencyMsB"), Number(c, "meanLatencyMsDelta")));
        foreach (var side in new[] { "duplicatesA", "duplicatesB" })
        {
            Assert.Equal(0, Int(c.GetProperty(side), "count"));
            Assert.Empty(c.GetProperty(side).GetProperty("exampleKeys").EnumerateArray());
        }
    }

    [Fact]
    public async Task EachBucketPagesExactlyItsExamplesInKeyOrder()
    {
        var p = await NewProjectAsync();
        var (before, after) = await TwoRunsAsync(p);
        var runs = $"a={before}&b={after}";

        var expected = new Dictionary<string, string[]>
        {
            ["improved"] = ["ex-00", "ex-01", "ex-02", "ex-03"], ["regressed"] = ["ex-04", "ex-05"],
            ["unchanged"] = ["ex-06", "ex-07", "ex-08"], ["unscored"] = ["ex-09"], ["onlyA"] = ["ex-10", "ex-11"], ["onlyB"] = ["ex-12", "ex-13"],
        };
        foreach (var (bucket, keys) in expected)
        {
            var (items, pages) = await p.AllPagesAsync(Examples($"{runs}&bucket={bucket}&limit=2"));
            Assert.Equal(keys, Keys(items));
            // Pages of two, the last one without a nextCursor: ⌈n / 2⌉ of them.
            Assert.Equal((keys.Length + 1) / 2, pages);
            Assert.All(items, i => Assert.Equal(bucket, i.GetProperty("bucket").GetString()));
        }

        var (all, _) = await p.AllPagesAsync(Examples($"{runs}&limit=3"));
        Assert.Equal(Enumerable.Range(0, 14).Select(i => $"ex-{i:00}"), Keys(all));

        var page = await p.GetAsync(Examples($"{runs}&bucket=improved&limit=1"));
        Assert.Equal(("improved", (before, 1), (after, 2)), (page.GetProperty("bucket").GetString(),
            (page.GetProperty("a").GetProperty("runId").GetGuid(), Int(page.GetProperty("a"), "iteration")),
            (page.GetProperty("b").GetProperty("runId").GetGuid(), Int(page.GetProperty("b"), "iteration"))));
        var gained = page.GetProperty("items")[0];
        Assert.Equal(("ex-00", "ex-00", 1.0m), (gained.GetProperty("exampleKey").GetString(), gained.GetProperty("exampleId").GetString(),
            gained.GetProperty("delta").GetDecimal()));
        AssertJson("""{"question":"q-ex-00"}""", gained.GetProperty("inputs"));
        AssertJson("""{"answer":"expected-ex-00"}""", gained.GetProperty("expected"));
        var a = gained.GetProperty("a");
        var b = gained.GetProperty("b");
        Assert.Equal((0, 0.0m, false, "parse error"), (Int(a, "sampleIndex"), a.GetProperty("score").GetDecimal(), a.GetProperty("success").GetBoolean(), a.GetProperty("error").GetString()));
        Assert.Equal((1.0m, true, JsonValueKind.Null), (b.GetProperty("score").GetDecimal(), b.GetProperty("success").GetBoolean(), b.GetProperty("error").ValueKind));
        AssertJson("""{"answer":"before-1-ex-00"}""", a.GetProperty("prediction"));
        AssertJson("""{"answer":"after-2-ex-00"}""", b.GetProperty("prediction"));
        Assert.Equal((Example.TraceId("before-1-ex-00"), Example.TraceId("after-2-ex-00")), (a.GetProperty("traceId").GetString(), b.GetProperty("traceId").GetString()));

        var onlyA = (await p.GetAsync(Examples($"{runs}&bucket=onlyA"))).GetProperty("items")[0];
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (onlyA.GetProperty("b").ValueKind, onlyA.GetProperty("delta").ValueKind));
        Assert.Equal(0.3m, onlyA.GetProperty("a").GetProperty("score").GetDecimal());
        var onlyB = (await p.GetAsync(Examples($"{runs}&bucket=onlyB"))).GetProperty("items")[0];
        Assert.Equal(JsonValueKind.Null, onlyB.GetProperty("a").ValueKind);
        AssertJson("""{"question":"q-ex-12"}""", onlyB.GetProperty("inputs"));
    }

    [Fact]
    public async Task OneRunsBaselineIsComparedWithItsBestFullEvaluation()
    {
        var p = await NewProjectAsync();
        Example[] Scores(params decimal[] scores) => scores.Select((s, i) => new Example($"ex-{i}", s)).ToArray();
        var run = await RunAsync(p, "one",
            (0, "baseline", 0.4m, Scores(0.0m, 1.0m, 0.0m, 1.0m, 0.0m)),
            (1, "minibatch", 0.95m, Scores(1.0m, 1.0m)),
            (2, "full", 0.6m, Scores(1.0m, 1.0m, 0.0m, 1.0m, 0.0m)),
            (3, "full", 0.8m, Scores(1.0m, 1.0m, 1.0m, 0.0m, 1.0m)),
            (4, "full", 0.8m, Scores(0.0m, 0.0m, 0.0m, 0.0m, 0.0m)));

        var c = await p.GetAsync(Compare($"a={run}&aIteration=0&b={run}"));

        // The best full evaluation, the earlier of the tie, not the minibatch's higher estimate.
        Assert.Equal((run, 0, "baseline", false), Side(c.GetProperty("a")));
        Assert.Equal((run, 3, "full", true), Side(c.GetProperty("b")));
        Assert.Equal(0.8m, c.GetProperty("b").GetProperty("score").GetDecimal());
        Assert.Equal((5, 3, 1, 1), (Int(c, "paired"), Int(c, "improved"), Int(c, "regressed"), Int(c, "unchanged")));
        Assert.Equal(0.4, Number(c, "meanDelta"), 1e-12);

        // A run without full evaluations defaults to its baseline.
        var baselineOnly = await RunAsync(p, "baseline-only", (0, "baseline", 0.5m, Scores(1.0m, 0.0m)), (1, "minibatch", 0.9m, Scores(1.0m)));
        var againstBaseline = await p.GetAsync(Compare($"a={baselineOnly}&b={run}&bIteration=1"));
        Assert.Equal((baselineOnly, 0, "baseline", true), Side(againstBaseline.GetProperty("a")));
        Assert.Equal((run, 1, "minibatch", false), Side(againstBaseline.GetProperty("b")));
        Assert.Equal((2, 1, 0, 1), (Int(againstBaseline, "paired"), Int(againstBaseline, "unchanged"), Int(againstBaseline, "onlyA"), Int(againstBaseline, "improved")));
    }

    [Fact]
    public async Task IterationsThatCannotBeComparedAreProblemsNamingTheirParameter()
    {
        var p = await NewProjectAsync();
        var minibatchesOnly = await RunAsync(p, "minibatches", (1, "minibatch", 0.5m, [new Example("ex-0", 1.0m)]));
        var run = await RunAsync(p, "full", (0, "baseline", 0.5m, [new Example("ex-0", 0.0m)]), (2, "full", 0.7m, [new Example("ex-0", 1.0m)]));

        var problem = await p.GetProblemAsync(Compare($"a={minibatchesOnly}&b={run}"), HttpStatusCode.BadRequest);
        Assert.Contains("no scored full evaluation and no baseline", problem.GetProperty("errors").GetProperty("aIteration")[0].GetString());
        await p.ExpectInvalidAsync(Compare($"a={run}&b={minibatchesOnly}"), "bIteration");
        await p.ExpectInvalidAsync(Compare($"a={run}&aIteration=9&b={minibatchesOnly}&bIteration=1"), "aIteration");
        await p.ExpectInvalidAsync(Examples($"a={run}&b={minibatchesOnly}&bIteration=7"), "bIteration");
        // The same run needs two iterations: none named, the same named, or one named that is the other's default.
        await p.ExpectInvalidAsync(Compare($"a={run}&b={run}"), "bIteration");
        await p.ExpectInvalidAsync(Compare($"a={run}&aIteration=2&b={run}&bIteration=2"), "bIteration");
        await p.ExpectInvalidAsync(Compare($"a={run}&aIteration=2&b={run}"), "bIteration");
        await p.ExpectInvalidAsync(Examples($"a={run}&b={run}"), "bIteration");
        Assert.Equal(1, Int(await p.GetAsync(Compare($"a={run}&aIteration=0&b={run}")), "improved"));
        Assert.Equal(1, Int(await p.GetAsync(Compare($"a={minibatchesOnly}&aIteration=1&b={run}&bIteration=0")), "regressed"));
    }

    [Fact]
    public async Task DuplicatesAreReportedAndTheLowestSampleIndexIsPaired()
    {
        var p = await NewProjectAsync();
        var a = await RunAsync(p, "dup-a", (0, "full", 0.5m,
        [
            new Example("ex-1", 0.0m, Index: 7), new Example("ex-1", 1.0m, Index: 2), new Example("ex-1", 0.5m, Index: 9),
            new Example("ex-2", 0.0m, Index: 4), new Example("ex-2", 0.0m, Index: 3), new Example("ex-3", 1.0m, Index: 5),
        ]));
        var b = await RunAsync(p, "dup-b", (0, "full", 0.5m, [new Example("ex-1", 0.0m), new Example("ex-2", 1.0m), new Example("ex-3", 1.0m)]));

        var c = await p.GetAsync(Compare($"a={a}&b={b}"));

        var duplicates = c.GetProperty("duplicatesA");
        Assert.Equal((2, 3), (Int(duplicates, "count"), Int(duplicates, "extraSamples")));
        Assert.Equal(["ex-1", "ex-2"], duplicates.GetProperty("exampleKeys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(0, Int(c.GetProperty("duplicatesB"), "count"));
        Assert.Equal((6, 3, 3), (Int(c, "samplesA"), Int(c, "samplesB"), Int(c, "paired")));
        // ex-1 pairs its sample 2 (1.0 → 0.0), ex-2 its sample 3 (0.0 → 1.0).
        Assert.Equal((1, 1, 1), (Int(c, "improved"), Int(c, "regressed"), Int(c, "unchanged")));
        var pairs = (await p.GetAsync(Examples($"a={a}&b={b}"))).GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("exampleKey").GetString()!, i => Int(i.GetProperty("a"), "sampleIndex"));
        Assert.Equal(new Dictionary<string, int> { ["ex-1"] = 2, ["ex-2"] = 3, ["ex-3"] = 5 }, pairs);
    }

    [Fact]
    public async Task SamplesWithoutAnExampleIdArePairedByTheirInputs()
    {
        var p = await NewProjectAsync();
        var a = await RunAsync(p, "inputs-a", (0, "full", 0.5m,
            [new Example(null, 0.0m, Inputs: new { question = "q1", context = "c" }), new Example(null, 1.0m, Inputs: new { question = "q2" })]));
        var b = await RunAsync(p, "inputs-b", (0, "full", 0.5m,
            [new Example(null, 1.0m, Inputs: new { context = "c", question = "q1" }), new Example(null, 1.0m, Inputs: new { question = "q3" })]));

        var c = await p.GetAsync(Compare($"a={a}&b={b}"));
        var improved = (await p.GetAsync(Examples($"a={a}&b={b}&bucket=improved"))).GetProperty("items").EnumerateArray().Single();

        Assert.Equal((1, 1, 1, 1), (Int(c, "paired"), Int(c, "improved"), Int(c, "onlyA"), Int(c, "onlyB")));
        // jsonb prints keys shorter first and ": " between key and value, whatever order and spacing were sent.
        var key = "md5:" + Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes("""{"context": "c", "question": "q1"}""")));
        Assert.Equal(key, improved.GetProperty("exampleKey").GetString());
        Assert.Equal(JsonValueKind.Null, improved.GetProperty("exampleId").ValueKind);
    }

    [Fact]
    public async Task LessThanHalfOfTheUnionPairedIsLowOverlap()
    {
        var p = await NewProjectAsync();
        Example[] Range(int from, int count) => Enumerable.Range(from, count).Select(i => new Example($"ex-{i:00}", 0.5m)).ToArray();
        var a = await RunAsync(p, "overlap-a", (0, "full", 0.5m, Range(0, 10)));
        var b = await RunAsync(p, "overlap-b", (0, "full", 0.5m, Range(5, 15)));
        var half = await RunAsync(p, "overlap-half", (0, "full", 0.5m, Range(5, 10).Concat(Range(25, 5)).ToArray()));

        var low = await p.GetAsync(Compare($"a={a}&b={b}"));
        var notLow = await p.GetAsync(Compare($"a={half}&b={b}"));

        Assert.Equal((5, 5, 10, 0.25, true), (Int(low, "paired"), Int(low, "onlyA"), Int(low, "onlyB"), Number(low, "overlap"), low.GetProperty("lowOverlap").GetBoolean()));
        // ex-05…ex-14 paired, ex-25…ex-29 only in A, ex-15…ex-19 only in B: 10 of 20.
        Assert.Equal((10, 0.5, false), (Int(notLow, "paired"), Number(notLow, "overlap"), notLow.GetProperty("lowOverlap").GetBoolean()));
    }

    [Fact]
    public async Task AnotherProjectsRunIsNotFoundOnEitherSide()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var (mine, alsoMine) = await TwoRunsAsync(owner);
        var theirs = await RunAsync(stranger, "theirs", (0, "full", 0.5m, Before));

        await owner.GetProblemAsync(Compare($"a={theirs}&b={mine}"), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Compare($"a={mine}&b={theirs}"), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Compare($"a={mine}&aIteration=1&b={theirs}&bIteration=0"), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Examples($"a={theirs}&b={mine}&bucket=onlyA"), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Examples($"a={mine}&b={theirs}"), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Compare($"a={mine}&b={Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await stranger.GetProblemAsync(Compare($"a={mine}&b={alsoMine}"), HttpStatusCode.NotFound);
        Assert.Equal(10, Int(await owner.GetAsync(Compare($"a={mine}&b={alsoMine}")), "paired"));
    }

    [Theory]
    [InlineData("b={B}", "a")]
    [InlineData("a=run-1&b={B}", "a")]
    [InlineData("a={A}", "b")]
    [InlineData("a={A}&b={B}&aIteration=-1", "aIteration")]
    [InlineData("a={A}&b={B}&bIteration=two", "bIteration")]
    [InlineData("a={A}&b={B}&bIteration=99999999999", "bIteration")]
    public async Task InvalidComparisonsAreProblemsNamingTheParameter(string query, string field)
    {
        var p = await NewProjectAsync();
        var url = query.Replace("{A}", Guid.NewGuid().ToString()).Replace("{B}", Guid.NewGuid().ToString());

        await p.ExpectInvalidAsync(Compare(url), field);
        await p.ExpectInvalidAsync(Examples(url), field);
    }

    [Theory]
    [InlineData("bucket=better", "bucket")]
    [InlineData("bucket=only_a", "bucket")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("cursor=garbage", "cursor")]
    [InlineData("cursor=Y29tcGFyZTp4", "cursor")]
    public async Task InvalidPagesAreProblemsNamingTheParameter(string query, string field)
    {
        var p = await NewProjectAsync();
        var (before, after) = await TwoRunsAsync(p);

        await p.ExpectInvalidAsync(Examples($"a={before}&b={after}&{query}"), field);
    }

    [Fact]
    public async Task ACursorBelongsToItsComparisonAndBucket()
    {
        var p = await NewProjectAsync();
        var (before, after) = await TwoRunsAsync(p);
        var other = await RunAsync(p, "other", (1, "full", 0.5m, Before));
        var cursor = (await p.GetAsync(Examples($"a={before}&b={after}&bucket=improved&limit=1"))).GetProperty("nextCursor").GetString()!;
        var samplesCursor = (await p.GetAsync($"/api/optimization/runs/{before}/samples?limit=1")).GetProperty("nextCursor").GetString()!;

        Assert.Equal(["ex-01"], Keys((await p.GetAsync(Examples($"a={before}&b={after}&bucket=improved&limit=1&cursor={cursor}"))).GetProperty("items").EnumerateArray()));
        await p.ExpectInvalidAsync(Examples($"a={before}&b={after}&bucket=regressed&cursor={cursor}"), "cursor");
        await p.ExpectInvalidAsync(Examples($"a={before}&b={after}&cursor={cursor}"), "cursor");
        await p.ExpectInvalidAsync(Examples($"a={other}&b={after}&bucket=improved&cursor={cursor}"), "cursor");
        await p.ExpectInvalidAsync(Examples($"a={before}&b={after}&bIteration=0&bucket=improved&cursor={cursor}"), "cursor");
        await p.ExpectInvalidAsync(Examples($"a={before}&b={after}&cursor={samplesCursor}"), "cursor");
        await p.ExpectInvalidAsync($"/api/optimization/runs/{before}/samples?cursor={cursor}", "cursor");
    }

    [Fact]
    public async Task ACursorKeepsTheIterationsOfItsFirstPage()
    {
        var p = await NewProjectAsync();
        var (before, after) = await TwoRunsAsync(p);
        var first = await p.GetAsync(Examples($"a={before}&b={after}&limit=5"));

        // A better full evaluation of B arrives between the pages.
        await RunIterationAsync(p, after, 3, 0.9m, After);
        var second = await p.GetAsync(Examples($"a={before}&b={after}&limit=5&cursor={Uri.EscapeDataString(first.GetProperty("nextCursor").GetString()!)}"));
        var fresh = await p.GetAsync(Compare($"a={before}&b={after}"));

        Assert.Equal((2, 2), (Int(first.GetProperty("b"), "iteration"), Int(second.GetProperty("b"), "iteration")));
        Assert.Equal(["ex-05", "ex-06", "ex-07", "ex-08", "ex-09"], Keys(second.GetProperty("items").EnumerateArray()));
        Assert.Equal(3, Int(fresh.GetProperty("b"), "iteration"));
    }

    private static async Task RunIterationAsync(ReadSideDriver p, Guid run, int iteration, decimal score, Example[] samples)
    {
        await p.RecordIterationAsync(run, iteration, "full", score);
        await p.RecordSamplesAsync(run, samples.Select((s, i) => (s with { Index = i }).ToSample(iteration, $"late-{i}")));
    }

    private static (Guid, int, string, bool) Side(JsonElement side) => (side.GetProperty("runId").GetGuid(), Int(side, "iteration"),
        side.GetProperty("kind").GetString()!, side.GetProperty("defaulted").GetBoolean());

    private static int Int(JsonElement element, string name) => element.GetProperty(name).GetInt32();

    private static double Number(JsonElement element, string name) => element.GetProperty(name).GetDouble();
}
