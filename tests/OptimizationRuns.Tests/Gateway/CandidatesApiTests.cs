using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;
using static OptimizationRuns.Tests.Gateway.ReadSideDriver;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>POST and GET …/runs/{runId}/candidates through real HTTP.</summary>
[Collection(GatewayCollection.Name)]
public sealed class CandidatesApiTests(GatewayFixture fixture)
{
    private const double Tolerance = 1e-9;

    private async Task<ReadSideDriver> NewProjectAsync() => new((await fixture.NewProjectAsync()).Client);

    private static string Candidates(Guid runId) => $"/api/optimization/runs/{runId}/candidates";

    private static object Instruction(string predictor, int index, string text) => new { predictor, kind = "instruction", index, text };

    private static object Demos(string predictor, int index, object demos) => new { predictor, kind = "demos", index, demos };

    private static object Choice(params (string Predictor, int Instruction, int Demos)[] choices) =>
        new { predictors = choices.ToDictionary(c => c.Predictor, c => new { instruction = c.Instruction, demos = c.Demos }) };

    private static async Task<JsonElement> RecordAsync(ReadSideDriver p, Guid runId, params object[] candidates) =>
        await (await p.Http.PostAsJsonAsync(Candidates(runId), new { candidates })).JsonAsync(HttpStatusCode.OK);

    private static (int, int, int) Counts(JsonElement answer) =>
        (answer.GetProperty("accepted").GetInt32(), answer.GetProperty("inserted").GetInt32(), answer.GetProperty("duplicates").GetInt32());

    private static JsonElement Predictor(JsonElement answer, string predictor) =>
        answer.GetProperty("predictors").EnumerateArray().Single(p => p.GetProperty("predictor").GetString() == predictor);

    private static JsonElement Candidate(JsonElement answer, string predictor, string kind, int index) =>
        Predictor(answer, predictor).GetProperty(kind).GetProperty("candidates").EnumerateArray()
            .Single(c => c.GetProperty("index").GetInt32() == index);

    private static async Task<long> StoredCandidatesAsync(Guid runId)
    {
        await using var owner = await TestDatabase.OpenOwnerAsync();
        return await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_candidates WHERE run_id = @runId", new { runId });
    }

    [Fact]
    public async Task SendingTheSameCandidatesAgainIsANoOp()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("idempotent");
        object[] batch =
        [
            Instruction("0", 0, "Answer the question."),
            Instruction("0", 1, "Answer the question in one word."),
            Demos("0", 0, new[] { new { question = "2+2?", answer = "4" } }),
        ];

        Assert.Equal((3, 3, 0), Counts(await RecordAsync(p, run, batch)));
        Assert.Equal((3, 0, 3), Counts(await RecordAsync(p, run, batch)));
        // Spacing and key order do not change a demo set: jsonb compares the values.
        var respaced = await (await p.Http.PostRawAsync(Candidates(run),
            """{"candidates": [{"predictor": "0", "kind": "demos", "index": 0, "demos": [ {"answer":"4",   "question":"2+2?"} ]}]}"""))
            .JsonAsync(HttpStatusCode.OK);
        Assert.Equal((1, 0, 1), Counts(respaced));
        Assert.Equal((3, 1, 2), Counts(await RecordAsync(p, run, batch[0], Instruction("0", 2, "Think, then answer."), batch[0])));

        var answer = await p.GetAsync(Candidates(run));
        Assert.Equal(run, answer.GetProperty("runId").GetGuid());
        var instructions = Predictor(answer, "0").GetProperty("instruction").GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], instructions.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal("Answer the question in one word.", instructions[1].GetProperty("text").GetString());
        Assert.True(instructions[1].GetProperty("recorded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, instructions[1].GetProperty("demos").ValueKind);
        var demos = Candidate(answer, "0", "demos", 0);
        AssertJson("""[{"question": "2+2?", "answer": "4"}]""", demos.GetProperty("demos"));
        Assert.Equal(JsonValueKind.Null, demos.GetProperty("text").ValueKind);
        Assert.Equal(JsonValueKind.String, demos.GetProperty("createdAt").ValueKind);
        Assert.Equal(4, await StoredCandidatesAsync(run));
    }

    [Fact]
    public async Task ConcurrentRepeatsOfABatchStoreItOnce()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("concurrent");
        var batch = Enumerable.Range(0, 50).SelectMany(i => new[]
        {
            Instruction($"{i % 4}", i, $"Instruction {i}."), Demos($"{i % 4}", i, new[] { new { q = $"q{i}" } }),
        }).ToArray();
        // Each repeat lists the candidates in another order, as retries from several threads might.
        var orders = Enumerable.Range(0, 4).Select(seed => batch.OrderBy(_ => Random.Shared.Next()).ToArray()).ToList();

        var answers = await Task.WhenAll(orders.Select(order => RecordAsync(p, run, order)));

        Assert.All(answers, a => Assert.Equal(100, a.GetProperty("accepted").GetInt32()));
        Assert.Equal(100, answers.Sum(a => a.GetProperty("inserted").GetInt32()));
        Assert.Equal(300, answers.Sum(a => a.GetProperty("duplicates").GetInt32()));
        Assert.Equal(100, await StoredCandidatesAsync(run));
    }

    [Fact]
    public async Task ADifferentContentForAStoredCandidateIsAConflictNamingItAndWritesNothing()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("conflict");
        await RecordAsync(p, run, Instruction("0", 0, "Answer the question."), Demos("0", 0, new[] { new { q = "a" } }));

        var changedText = await p.Http.PostAsJsonAsync(Candidates(run), new
        {
            candidates = new[] { Instruction("0", 1, "A new one."), Instruction("0", 0, "Answer the question!") },
        });
        var problem = await changedText.ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("candidates[1]", problem.GetProperty("detail").GetString());
        Assert.Contains("predictor \"0\", instruction 0", problem.GetProperty("detail").GetString());

        var changedDemos = await p.Http.PostAsJsonAsync(Candidates(run), new { candidates = new[] { Demos("0", 0, new[] { new { q = "b" } }) } });
        Assert.Contains("candidates[0] (predictor \"0\", demos 0)",
            (await changedDemos.ProblemAsync(HttpStatusCode.Conflict)).GetProperty("detail").GetString());

        var answer = await p.GetAsync(Candidates(run));
        Assert.Equal("Answer the question.", Candidate(answer, "0", "instruction", 0).GetProperty("text").GetString());
        Assert.Single(Predictor(answer, "0").GetProperty("instruction").GetProperty("candidates").EnumerateArray());
        Assert.Equal(2, await StoredCandidatesAsync(run));
    }

    public static TheoryData<string, string> InvalidBatches => new()
    {
        // A valid candidate rides along in each, to show the batch is refused whole.
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "0", "kind": "prompt", "index": 1, "text": "x"}]}""", "candidates[1].kind" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "0", "kind": "instruction", "text": "x"}]}""", "candidates[1].index" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "0", "kind": "instruction", "index": -1, "text": "x"}]}""", "candidates[1].index" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "", "kind": "instruction", "index": 1, "text": "x"}]}""", "candidates[1].predictor" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "0", "kind": "instruction", "index": 1}]}""", "candidates[1].text" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "0", "kind": "demos", "index": 0, "demos": {"q": "a"}}]}""", "candidates[1].demos" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "0", "kind": "demos", "index": 0, "demos": [], "text": "x"}]}""", "candidates[1].text" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, null]}""", "candidates[1]" },
        { """{"candidates": [{"predictor": "0", "kind": "instruction", "index": 0, "text": "ok"}, {"predictor": "0", "kind": "instruction", "index": 0, "text": "other"}]}""", "candidates[1]" },
        { """{"candidates": []}""", "candidates" },
    };

    [Theory]
    [MemberData(nameof(InvalidBatches))]
    public async Task AnInvalidCandidateIsA400NamingItsFieldAndNothingIsWritten(string body, string field)
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("invalid");

        await (await p.Http.PostRawAsync(Candidates(run), body)).ProblemAsync(HttpStatusCode.BadRequest, field);

        Assert.Empty((await p.GetAsync(Candidates(run))).GetProperty("predictors").EnumerateArray());
        Assert.Equal(0, await StoredCandidatesAsync(run));
    }

    [Fact]
    public async Task OversizedTextsDemoSetsAndBatchesAreRefusedByTheirBounds()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("bounds");
        var demo = new { text = new string('x', 2_100) };

        var tooLong = await p.Http.PostAsJsonAsync(Candidates(run), new { candidates = new[] { Instruction("0", 0, new string('x', 20_001)) } });
        await tooLong.ProblemAsync(HttpStatusCode.BadRequest, "candidates[0].text");
        var tooMany = await p.Http.PostAsJsonAsync(Candidates(run), new { candidates = new[] { Demos("0", 0, Enumerable.Repeat(new { q = "a" }, 101)) } });
        await tooMany.ProblemAsync(HttpStatusCode.BadRequest, "candidates[0].demos");
        // 100 demos of 2,100 characters are over 200 KB.
        var tooBig = await p.Http.PostAsJsonAsync(Candidates(run), new { candidates = new[] { Demos("0", 0, Enumerable.Repeat(demo, 100)) } });
        await tooBig.ProblemAsync(HttpStatusCode.BadRequest, "candidates[0].demos");
        var overAThousand = await p.Http.PostAsJsonAsync(Candidates(run),
            new { candidates = Enumerable.Range(0, 1_001).Select(i => Instruction("0", i, "x")).ToArray() });
        await overAThousand.ProblemAsync(HttpStatusCode.BadRequest, "candidates");

        Assert.Equal(0, await StoredCandidatesAsync(run));
        var thousand = await RecordAsync(p, run, Enumerable.Range(0, 1_000).Select(i => Instruction("0", i, $"instruction {i}")).ToArray());
        Assert.Equal((1_000, 1_000, 0), Counts(thousand));
    }

    [Fact]
    public async Task AnotherProjectsOrAnUnknownRunIsNotFoundForBothEndpoints()
    {
        var owner = await NewProjectAsync();
        var stranger = await NewProjectAsync();
        var run = await owner.CreateRunAsync("private");
        await RecordAsync(owner, run, Instruction("0", 0, "Secret instruction."));
        await owner.RecordIterationAsync(run, new { iteration = 0, kind = "minibatch", score = 0.5m, @params = Choice(("0", 0, 0)) });

        var post = await stranger.Http.PostAsJsonAsync(Candidates(run), new { candidates = new[] { Instruction("0", 0, "Stolen.") } });
        await post.ProblemAsync(HttpStatusCode.NotFound);
        var unknown = await owner.Http.PostAsJsonAsync(Candidates(Guid.NewGuid()), new { candidates = new[] { Instruction("0", 0, "x") } });
        await unknown.ProblemAsync(HttpStatusCode.NotFound);
        await stranger.GetProblemAsync(Candidates(run), HttpStatusCode.NotFound);
        await owner.GetProblemAsync(Candidates(Guid.NewGuid()), HttpStatusCode.NotFound);

        Assert.Equal("Secret instruction.", Candidate(await owner.GetAsync(Candidates(run)), "0", "instruction", 0).GetProperty("text").GetString());
        Assert.Equal(1, await StoredCandidatesAsync(run));
    }

    [Fact]
    public async Task AnEndedRunStillTakesCandidatesAndADeletedOneTheirRowsGoWithIt()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("ended");
        await p.StartAsync(run);
        await p.CompleteAsync(run, 0.7m);

        Assert.Equal((1, 1, 0), Counts(await RecordAsync(p, run, Instruction("0", 0, "The final instruction."))));

        (await p.Http.DeleteAsync($"/api/optimization/runs/{run}")).EnsureSuccessStatusCode();
        Assert.Equal(0, await StoredCandidatesAsync(run));
        await p.GetProblemAsync(Candidates(run), HttpStatusCode.NotFound);
        var afterDelete = await p.Http.PostAsJsonAsync(Candidates(run), new { candidates = new[] { Instruction("0", 1, "x") } });
        await afterDelete.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ARunWithoutCandidatesOrChoicesAnswersNoPredictors()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("empty");
        await p.RecordIterationAsync(run, 0, "baseline", 0.4m);

        var answer = await p.GetAsync(Candidates(run));

        Assert.Empty(answer.GetProperty("predictors").EnumerateArray());
    }

    /// <summary>
    /// Predictor "0" with instructions 0–2 recorded (3 only chosen) and demo sets 0–2 recorded; predictor "1" only chosen.
    /// Scored minibatch trials of predictor "0" (iteration: instruction, demos → score):
    /// 1: 0, 0 → 0.5; 2: 1, 0 → 0.6; 3: 1, 1 → 0.7; 4: 1, 1 → 0.8; 6: 2, 1 → 0.2; 7: 2, 1 → 0.4.
    /// Full evaluations: 0 (baseline): 0, 0 → 0.4; 5 (full): 1, 1 → 0.75. Iteration 8 chose instruction 3 and demos 0
    /// but has no score yet; 9 chose only for predictor "1"; 10–12 name no valid choice.
    /// </summary>
    private static async Task<Guid> SmallRunAsync(ReadSideDriver p)
    {
        var run = await p.CreateRunAsync("small");
        await RecordAsync(p, run,
            Instruction("0", 0, "Answer."), Instruction("0", 1, "Answer in one word."), Instruction("0", 2, "Answer at length."),
            Demos("0", 0, new[] { new { q = "a" } }), Demos("0", 1, new[] { new { q = "b" }, new { q = "c" } }), Demos("0", 2, Array.Empty<object>()),
            Instruction("10", 0, "Order check."), Instruction("qa.predict", 0, "Order check."));
        var trials = new (int Iteration, string Kind, decimal? Score, object Params)[]
        {
            (0, "baseline", 0.4m, Choice(("0", 0, 0))),
            (1, "minibatch", 0.5m, Choice(("0", 0, 0))),
            (2, "minibatch", 0.6m, Choice(("0", 1, 0))),
            (3, "minibatch", 0.7m, Choice(("0", 1, 1))),
            (4, "minibatch", 0.8m, Choice(("0", 1, 1))),
            (5, "full", 0.75m, Choice(("0", 1, 1))),
            (6, "minibatch", 0.2m, Choice(("0", 2, 1))),
            (7, "minibatch", 0.4m, Choice(("0", 2, 1))),
            (8, "minibatch", null, Choice(("0", 3, 0))),
            (9, "minibatch", 0.9m, Choice(("1", 0, 0))),
            (10, "minibatch", 0.1m, JsonDocument.Parse("""{"predictors": {"0": {"instruction": "2", "demos": 1.5}}}""").RootElement),
            (11, "minibatch", 0.1m, JsonDocument.Parse("""{"predictors": [{"instruction": 1}]}""").RootElement),
            (12, "minibatch", 0.1m, JsonDocument.Parse("""{"predictors": {"2": 5, "0": {"instruction": -1, "demos": null}}}""").RootElement),
        };
        foreach (var (iteration, kind, score, parameters) in trials)
        {
            await p.RecordIterationAsync(run, new { iteration, kind, score, @params = parameters });
        }

        return run;
    }

    [Fact]
    public async Task StatisticsOfASmallRunAreTheHandComputedOnes()
    {
        var p = await NewProjectAsync();
        var run = await SmallRunAsync(p);

        var answer = await p.GetAsync(Candidates(run));

        Assert.Equal(["0", "1", "10", "qa.predict"], answer.GetProperty("predictors").EnumerateArray().Select(e => e.GetProperty("predictor").GetString()));
        var instructions = Predictor(answer, "0").GetProperty("instruction");
        // Scores 0.5 | 0.6 0.7 0.8 | 0.2 0.4, grand mean 3.2 / 6; SS_total = 35 / 150; group means 0.5, 0.7, 0.3:
        // SS_between = 1·(1/30)² + 3·(1/6)² + 2·(7/30)² = 29 / 150; η² = 29 / 35.
        Assert.Equal(29.0 / 35, instructions.GetProperty("importance").GetDouble(), Tolerance);
        Assert.Equal(6, instructions.GetProperty("scoredTrials").GetInt32());
        var demos = Predictor(answer, "0").GetProperty("demos");
        // Demos 0.5 0.6 | 0.7 0.8 0.2 0.4: means 0.55, 0.525; SS_between = 2·(1/60)² + 4·(1/120)² = 1 / 1200; η² = 1 / 280.
        Assert.Equal(1.0 / 280, demos.GetProperty("importance").GetDouble(), Tolerance);
        Assert.Equal(6, demos.GetProperty("scoredTrials").GetInt32());

        var i0 = Candidate(answer, "0", "instruction", 0);
        Assert.Equal(2, i0.GetProperty("timesChosen").GetInt32());
        AssertMinibatch(i0, 1, 0.5, null);
        AssertFull(i0, 1, 0.4);
        Assert.Equal((0.4m, 0.5m), (i0.GetProperty("bestScore").GetDecimal(), i0.GetProperty("bestMinibatchScore").GetDecimal()));

        var i1 = Candidate(answer, "0", "instruction", 1);
        Assert.Equal(4, i1.GetProperty("timesChosen").GetInt32());
        // 0.6 0.7 0.8: s = 0.1, s / √3 = 0.0577350269, t(0.975, 2) = 4.3026527297: 0.7 ± 0.2484137712.
        AssertMinibatch(i1, 3, 0.7, (0.4515862288, 0.9484137712));
        AssertFull(i1, 1, 0.75);
        Assert.Equal((0.75m, 0.8m), (i1.GetProperty("bestScore").GetDecimal(), i1.GetProperty("bestMinibatchScore").GetDecimal()));

        var i2 = Candidate(answer, "0", "instruction", 2);
        // 0.2 0.4: 0.3 ± 12.7062047362 · 0.1, not clipped to [0, 1].
        AssertMinibatch(i2, 2, 0.3, (-0.9706204736, 1.5706204736));
        AssertFull(i2, 0, null);
        Assert.Equal(JsonValueKind.Null, i2.GetProperty("bestScore").ValueKind);

        var i3 = Candidate(answer, "0", "instruction", 3);
        Assert.False(i3.GetProperty("recorded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, i3.GetProperty("text").ValueKind);
        Assert.Equal(JsonValueKind.Null, i3.GetProperty("createdAt").ValueKind);
        Assert.Equal(1, i3.GetProperty("timesChosen").GetInt32());
        AssertMinibatch(i3, 0, null, null);

        var d0 = Candidate(answer, "0", "demos", 0);
        Assert.Equal(4, d0.GetProperty("timesChosen").GetInt32());
        // 0.5 0.6: 0.55 ± 12.7062047362 · 0.05.
        AssertMinibatch(d0, 2, 0.55, (-0.0853102368, 1.1853102368));
        AssertFull(d0, 1, 0.4);
        var d1 = Candidate(answer, "0", "demos", 1);
        Assert.Equal(5, d1.GetProperty("timesChosen").GetInt32());
        // 0.7 0.8 0.2 0.4: mean 0.525, s² = 0.2275 / 3, s / 2 = 0.1376892880; t(0.975, 3) = 3.1824463053: ± 0.4381886885.
        AssertMinibatch(d1, 4, 0.525, (0.0868113115, 0.9631886885));
        AssertFull(d1, 1, 0.75);
        var d2 = Candidate(answer, "0", "demos", 2);
        Assert.True(d2.GetProperty("recorded").GetBoolean());
        Assert.Equal("[]", d2.GetProperty("demos").GetRawText());
        Assert.Equal(0, d2.GetProperty("timesChosen").GetInt32());
        AssertMinibatch(d2, 0, null, null);
        AssertFull(d2, 0, null);

        // Predictor "1": chosen by iteration 9 only, never recorded; one candidate per kind, so no importance.
        var other = Predictor(answer, "1");
        Assert.Equal(JsonValueKind.Null, other.GetProperty("instruction").GetProperty("importance").ValueKind);
        var chosen = Candidate(answer, "1", "instruction", 0);
        Assert.False(chosen.GetProperty("recorded").GetBoolean());
        AssertMinibatch(chosen, 1, 0.9, null);
        Assert.Single(other.GetProperty("demos").GetProperty("candidates").EnumerateArray());
        // Predictor "10" has no demo set at all.
        Assert.Empty(Predictor(answer, "10").GetProperty("demos").GetProperty("candidates").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, Predictor(answer, "10").GetProperty("demos").GetProperty("importance").ValueKind);
    }

    [Fact]
    public async Task CandidatesOnlyIterationsChooseAreListedByIndexWithoutText()
    {
        var p = await NewProjectAsync();
        var run = await p.CreateRunAsync("never recorded");
        await p.RecordIterationAsync(run, new { iteration = 0, kind = "minibatch", score = 0.3m, @params = Choice(("0", 4, 2)) });
        await p.RecordIterationAsync(run, new { iteration = 1, kind = "minibatch", score = 0.6m, @params = Choice(("0", 1, 2)) });

        var answer = await p.GetAsync(Candidates(run));

        var instructions = Predictor(answer, "0").GetProperty("instruction").GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal([1, 4], instructions.Select(c => c.GetProperty("index").GetInt32()));
        Assert.All(instructions, c => Assert.False(c.GetProperty("recorded").GetBoolean()));
        Assert.All(instructions, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("text").ValueKind));
        Assert.Equal(1.0, Predictor(answer, "0").GetProperty("instruction").GetProperty("importance").GetDouble(), Tolerance);
        var demoSet = Assert.Single(Predictor(answer, "0").GetProperty("demos").GetProperty("candidates").EnumerateArray());
        Assert.Equal((2, 2), (demoSet.GetProperty("index").GetInt32(), demoSet.GetProperty("timesChosen").GetInt32()));
        Assert.Equal(JsonValueKind.Null, demoSet.GetProperty("demos").ValueKind);
    }

    private static void AssertMinibatch(JsonElement candidate, int n, double? mean, (double Low, double High)? ci95)
    {
        var minibatch = candidate.GetProperty("minibatch");
        Assert.Equal(n, minibatch.GetProperty("n").GetInt32());
        AssertNumber(mean, minibatch.GetProperty("mean"));
        if (ci95 is { } expected)
        {
            var interval = minibatch.GetProperty("ci95").EnumerateArray().Select(e => e.GetDouble()).ToList();
            Assert.Equal(2, interval.Count);
            Assert.Equal(expected.Low, interval[0], 1e-9);
            Assert.Equal(expected.High, interval[1], 1e-9);
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, minibatch.GetProperty("ci95").ValueKind);
        }
    }

    private static void AssertFull(JsonElement candidate, int n, double? mean)
    {
        var full = candidate.GetProperty("full");
        Assert.Equal(n, full.GetProperty("n").GetInt32());
        AssertNumber(mean, full.GetProperty("mean"));
    }

    private static void AssertNumber(double? expected, JsonElement actual)
    {
        if (expected is { } value)
        {
            Assert.Equal(value, actual.GetDouble(), Tolerance);
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, actual.ValueKind);
        }
    }
}
