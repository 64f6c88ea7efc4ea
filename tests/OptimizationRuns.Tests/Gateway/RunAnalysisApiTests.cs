using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>GET …/runs/{runId}/trajectory and …/examples through real HTTP, on hand-built runs with known answers.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RunAnalysisApiTests(GatewayFixture fixture)
{
    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    private static string Trajectory(Guid runId) => $"/api/optimization/runs/{runId}/trajectory";

    private static string Examples(Guid runId) => $"/api/optimization/runs/{runId}/examples";

    private static decimal? Decimal(JsonElement item, string field) =>
        item.GetProperty(field).ValueKind == JsonValueKind.Null ? null : item.GetProperty(field).GetDecimal();

    [Fact]
    public async Task TrajectoryCountsOnlyBaselineAndFullTowardTheBestAndAddsUpUsage()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("trajectory");
        var start = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        var trials = new (string Kind, decimal? Score)[] { ("baseline", 0.4m), ("minibatch", 0.7m), ("full", 0.55m), ("minibatch", 0.9m), ("full", 0.6m), ("minibatch", null) };
        // Recorded out of order: the trajectory follows the iteration numbers, not the arrival.
        foreach (var i in new[] { 3, 0, 5, 1, 4, 2 })
        {
            await p.RecordIterationAsync(run, new
            {
                iteration = i, kind = trials[i].Kind, score = trials[i].Score, samplesEvaluated = 10 * (i + 1),
                promptTokens = 100 * (i + 1), completionTokens = i + 1, costUsd = 0.01m * (i + 1),
                startedAt = start.AddMinutes(i), completedAt = trials[i].Score is null ? (DateTimeOffset?)null : start.AddMinutes(i).AddSeconds(41.5),
            });
        }

        var points = (await p.GetAsync(Trajectory(run))).GetProperty("items").EnumerateArray().ToList();

        Assert.Equal([0, 1, 2, 3, 4, 5], points.Select(t => t.GetProperty("iteration").GetInt32()));
        Assert.Equal(trials.Select(t => t.Kind), points.Select(t => t.GetProperty("kind").GetString()));
        Assert.Equal(trials.Select(t => t.Score), points.Select(t => Decimal(t, "score")));
        Assert.Equal([0.4m, 0.4m, 0.55m, 0.55m, 0.6m, 0.6m], points.Select(t => Decimal(t, "bestSoFar")));
        Assert.Equal([null, 0.7m, 0.7m, 0.9m, 0.9m, 0.9m], points.Select(t => Decimal(t, "bestMinibatchSoFar")));
        Assert.Equal([10L, 30, 60, 100, 150, 210], points.Select(t => t.GetProperty("cumulativeSamples").GetInt64()));
        Assert.Equal([101L, 303, 606, 1010, 1515, 2121], points.Select(t => t.GetProperty("cumulativeTokens").GetInt64()));
        Assert.Equal([0.01m, 0.03m, 0.06m, 0.10m, 0.15m, 0.21m], points.Select(t => t.GetProperty("cumulativeCostUsd").GetDecimal()));
        Assert.Equal("2026-11-26T10:02:00Z", points[2].GetProperty("startedAt").GetString());
        Assert.Equal("2026-11-26T10:02:41.5Z", points[2].GetProperty("completedAt").GetString());
        Assert.Equal(JsonValueKind.Null, points[5].GetProperty("completedAt").ValueKind);
    }

    [Fact]
    public async Task ARunWithoutIterationsHasAnEmptyTrajectory()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("empty");

        var answer = await p.GetAsync(Trajectory(run));

        Assert.Empty(answer.GetProperty("items").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("nextCursor").ValueKind);
    }

    // Iterations 0 baseline, 1 minibatch, 2 full, 3 minibatch. Per example, its score in each iteration that evaluated
    // it (null: evaluated without a score); failures are marked with their error.
    private static readonly (string Id, (int Iteration, decimal? Score, string? Error)[] Evaluations)[] Fixture =
    [
        ("always-wrong", [(0, 0m, null), (1, 0m, "boom-1"), (2, 0m, null), (3, 0m, "boom-3")]),
        ("depends", [(0, 0m, null), (1, 1m, null), (2, 0m, null), (3, 1m, null)]),
        ("mostly", [(0, 1m, null), (1, 1m, null), (2, 1m, null), (3, 0m, null)]),
        ("easy", [(0, 1m, null), (1, 1m, null), (2, 1m, null), (3, 1m, null)]),
        ("wrong", [(0, 0m, null), (2, 0m, null)]),
        ("partial", [(1, 0.2m, null), (3, 0.4m, null)]),
        ("unscored", [(1, null, "timeout-1"), (3, null, "timeout-3")]),
    ];

    // Two samples without an example id whose inputs are the same object written in two key orders: one example.
    private const string NoIdInputs = """{"q": "x", "r": 1}""";

    private static string NoIdKey => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(NoIdInputs)));

    private static async Task<Guid> ExamplesRunAsync(ReadSideDriver p)
    {
        var run = await p.CreateRunAsync("examples");
        foreach (var (iteration, kind) in new[] { (0, "baseline"), (1, "minibatch"), (2, "full"), (3, "minibatch") })
        {
            await p.RecordIterationAsync(run, iteration, kind, 0.5m);
        }

        var next = new int[4];
        var samples = new List<object>();
        foreach (var (id, evaluations) in Fixture)
        {
            foreach (var (iteration, score, error) in evaluations)
            {
                samples.Add(new
                {
                    iteration, sampleIndex = next[iteration]++, exampleId = id, inputs = new { question = id }, score,
                    success = error is null, error,
                });
            }
        }

        samples.Add(new { iteration = 0, sampleIndex = next[0]++, inputs = JsonDocument.Parse("""{"q":"x","r":1}""").RootElement, score = 0.5m, success = true });
        samples.Add(new { iteration = 2, sampleIndex = next[2]++, inputs = JsonDocument.Parse("""{"r":1,"q":"x"}""").RootElement, score = 0.7m, success = true });
        await p.RecordSamplesAsync(run, samples);
        return run;
    }

    private static string Key(JsonElement example) => example.GetProperty("exampleId").GetString() ?? "inputs:" + example.GetProperty("inputsHash").GetString();

    [Fact]
    public async Task HardestComeFirstWithTheirMeansFailuresKindsAndLastError()
    {
        var p = await NewProjectAsync();
        var run = await ExamplesRunAsync(p);

        var items = (await p.GetAsync(Examples(run))).GetProperty("items").EnumerateArray().ToList();

        Assert.Equal(["unscored", "always-wrong", "wrong", "partial", "depends", "inputs:" + NoIdKey, "mostly", "easy"], items.Select(Key));
        Assert.Equal([null, 0m, 0m, 0.3m, 0.5m, 0.6m, 0.75m, 1m], items.Select(e => Decimal(e, "meanScore")));
        Assert.Equal([2L, 2, 0, 0, 0, 0, 0, 0], items.Select(e => e.GetProperty("failures").GetInt64()));
        Assert.Equal([2L, 4, 2, 2, 4, 2, 4, 4], items.Select(e => e.GetProperty("evaluations").GetInt64()));
        Assert.Equal(["timeout-3", "boom-3", null, null, null, null, null, null], items.Select(e => e.GetProperty("lastError").GetString()));
        var kinds = items.ToDictionary(Key, e => string.Join(",", e.GetProperty("kinds").EnumerateArray().Select(k => k.GetString())));
        Assert.Equal("baseline,minibatch,full", kinds["always-wrong"]);
        Assert.Equal("minibatch", kinds["partial"]);
        Assert.Equal("baseline,full", kinds["inputs:" + NoIdKey]);
        var noId = items[5];
        Assert.Equal(JsonValueKind.Null, noId.GetProperty("exampleId").ValueKind);
        Assert.Equal(NoIdKey, noId.GetProperty("inputsHash").GetString());
        Assert.Equal(JsonValueKind.Null, items[1].GetProperty("inputsHash").ValueKind);
    }

    [Fact]
    public async Task FlakiestComeFirstByTheDeviationOfTheirScores()
    {
        var p = await NewProjectAsync();
        var run = await ExamplesRunAsync(p);

        var items = (await p.GetAsync($"{Examples(run)}?sort=flakiest")).GetProperty("items").EnumerateArray().ToList();

        // Equal deviations: more evaluations first, then the key (id:… before inputs:…); no score at all: last.
        Assert.Equal(["depends", "mostly", "partial", "inputs:" + NoIdKey, "always-wrong", "easy", "wrong", "unscored"], items.Select(Key));
        Assert.Equal([0.5m, 0.433013m, 0.1m, 0.1m, 0m, 0m, 0m, null], items.Select(e => Decimal(e, "scoreStdDev")));
    }

    [Fact]
    public async Task KindAndMinEvaluationsChooseWhatCounts()
    {
        var p = await NewProjectAsync();
        var run = await ExamplesRunAsync(p);

        var minibatch = (await p.GetAsync($"{Examples(run)}?kind=minibatch")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["unscored", "always-wrong", "partial", "mostly", "depends", "easy"], minibatch.Select(Key));
        Assert.Equal([null, 0m, 0.3m, 0.5m, 1m, 1m], minibatch.Select(e => Decimal(e, "meanScore")));
        Assert.Equal([0.5m, 0m], minibatch.Where(e => Key(e) is "mostly" or "depends").Select(e => Decimal(e, "scoreStdDev")));
        Assert.All(minibatch, e => Assert.Equal(["minibatch"], e.GetProperty("kinds").EnumerateArray().Select(k => k.GetString())));
        Assert.Equal(2, minibatch.Single(e => Key(e) == "always-wrong").GetProperty("evaluations").GetInt64());

        var often = (await p.GetAsync($"{Examples(run)}?minEvaluations=3&sort=flakiest")).GetProperty("items").EnumerateArray();
        Assert.Equal(["depends", "mostly", "always-wrong", "easy"], often.Select(Key));
        var full = (await p.GetAsync($"{Examples(run)}?kind=full&minEvaluations=2")).GetProperty("items").EnumerateArray();
        Assert.Empty(full);
    }

    [Theory]
    [InlineData("hardest")]
    [InlineData("flakiest")]
    public async Task PagesFollowTheOrderToTheEnd(string sort)
    {
        var p = await NewProjectAsync();
        var run = await ExamplesRunAsync(p);
        var whole = (await p.GetAsync($"{Examples(run)}?sort={sort}")).GetProperty("items").EnumerateArray().Select(Key).ToList();

        var (items, pages) = await p.AllPagesAsync($"{Examples(run)}?sort={sort}&limit=3");

        Assert.Equal(whole, items.Select(Key));
        Assert.Equal(3, pages);
        Assert.Equal(8, whole.Count);
    }

    [Fact]
    public async Task ACursorOfAnotherRunOrOrderIsRefused()
    {
        var p = await NewProjectAsync();
        var run = await ExamplesRunAsync(p);
        var other = await ExamplesRunAsync(p);
        var cursor = (await p.GetAsync($"{Examples(run)}?limit=2")).GetProperty("nextCursor").GetString()!;
        var samplesCursor = (await p.GetAsync($"/api/optimization/runs/{run}/samples?limit=1")).GetProperty("nextCursor").GetString()!;

        Assert.Equal(2, (await p.GetAsync($"{Examples(run)}?limit=2&cursor={cursor}")).GetProperty("items").GetArrayLength());
        await p.ExpectInvalidAsync($"{Examples(other)}?limit=2&cursor={cursor}", "cursor");
        await p.ExpectInvalidAsync($"{Examples(run)}?sort=flakiest&cursor={cursor}", "cursor");
        await p.ExpectInvalidAsync($"{Examples(run)}?cursor={samplesCursor}", "cursor");
        await p.ExpectInvalidAsync($"/api/optimization/runs/{run}/samples?cursor={cursor}", "cursor");
    }

    [Theory]
    [InlineData("sort=easiest", "sort")]
    [InlineData("sort=-hardest", "sort")]
    [InlineData("kind=trial", "kind")]
    [InlineData("minEvaluations=0", "minEvaluations")]
    [InlineData("minEvaluations=-2", "minEvaluations")]
    [InlineData("minEvaluations=many", "minEvaluations")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=garbage", "cursor")]
    [InlineData("cursor=ZXhhbXBsZXMtaGFyZGVzdA", "cursor")]
    public async Task InvalidExampleQueryIsAProblemNamingTheParameter(string query, string field)
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("validation");
        await p.ExpectInvalidAsync($"{Examples(run)}?{query}", field);
    }

    [Fact]
    public async Task AnotherProjectsOrAnUnknownRunIsNotFound()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var run = await ExamplesRunAsync(owner);

        foreach (var url in new[] { Trajectory(run), Examples(run), $"{Examples(run)}?sort=flakiest&kind=full" })
        {
            await stranger.GetProblemAsync(url, HttpStatusCode.NotFound);
        }

        await owner.GetProblemAsync(Trajectory(Guid.NewGuid()), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Examples(Guid.NewGuid()), HttpStatusCode.NotFound);
        Assert.NotEmpty((await owner.GetAsync(Examples(run))).GetProperty("items").EnumerateArray());
    }
}
