using OptimizationRuns.Grains.Candidates;
using OptimizationRuns.Grains.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Candidates;

/// <summary>A batch of candidates is checked as a whole: each bad field named by its path, repeats within it collapsed.</summary>
public sealed class CandidateRulesTests
{
    private static CandidateRecord Instruction(int index, string text = "Answer briefly.", string predictor = "0") =>
        new(predictor, CandidateKind.Instruction, index, Text: text);

    private static CandidateRecord Demos(int index, string json = """[{"question": "q", "answer": "a"}]""", string predictor = "0") =>
        new(predictor, CandidateKind.Demos, index, DemosJson: json);

    private static IReadOnlyDictionary<string, string[]> Refused(params CandidateRecord?[] candidates) =>
        Assert.Throws<RunValidationException>(() => CandidateRules.Validate(candidates)).Errors;

    [Fact]
    public void AValidBatchIsAnsweredInRequestOrder()
    {
        var batch = new[] { Instruction(1), Demos(0), Instruction(0, predictor: "qa.predict") };

        Assert.Equal(batch, CandidateRules.Validate(batch));
    }

    [Fact]
    public void ARepeatWithTheSameContentIsLeftOutAndWithAnotherIsAnError()
    {
        // Key order and spacing do not make a demo set different (jsonb compares values).
        var distinct = CandidateRules.Validate([Demos(0, """[{"a": 1, "b": 2}]"""), Instruction(0), Demos(0, """[{"b":2,"a":1}]""")]);
        Assert.Equal(2, distinct.Count);

        var errors = Refused(Instruction(0, "one"), Instruction(1), Instruction(0, "two"));
        Assert.Equal(["candidates[2]"], errors.Keys);
        Assert.Contains("candidates[0]", errors["candidates[2]"][0]);
    }

    [Theory]
    [InlineData("", "candidates[1].predictor")]
    [InlineData("   ", "candidates[1].predictor")]
    public void APredictorIsRequired(string predictor, string field) =>
        Assert.Contains(field, Refused(Instruction(0), Instruction(0, predictor: predictor)).Keys);

    [Fact]
    public void EveryBoundIsNamedByItsField()
    {
        var errors = Refused(
            Instruction(0, predictor: new string('p', 201)),
            new CandidateRecord("0", (CandidateKind)7, 0, Text: "x"),
            Instruction(-1),
            Instruction(3, new string('x', 20_001)),
            new CandidateRecord("0", CandidateKind.Instruction, 4),
            new CandidateRecord("0", CandidateKind.Instruction, 5, Text: "x", DemosJson: "[]"),
            new CandidateRecord("0", CandidateKind.Demos, 6),
            new CandidateRecord("0", CandidateKind.Demos, 7, Text: "x", DemosJson: "[]"),
            Demos(8, """{"question": "q"}"""),
            Demos(9, "[" + string.Join(",", Enumerable.Repeat("{}", 101)) + "]"),
            Demos(10, """["just text"]"""),
            Demos(11, """[{"text": "x"}"""),
            Demos(12, """[{"text": "\u0000"}]"""),
            null);

        string[] expected =
        [
            "candidates[0].predictor", "candidates[1].kind", "candidates[2].index", "candidates[3].text", "candidates[4].text",
            "candidates[5].demos", "candidates[6].demos", "candidates[7].text", "candidates[8].demos", "candidates[9].demos",
            "candidates[10].demos", "candidates[11].demos", "candidates[12].demos", "candidates[13]",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheBoundsThemselvesAreAllowed()
    {
        // 20,000 characters as PostgreSQL counts them: 20,000 emoji are 40,000 UTF-16 units.
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 20_000));
        var demo = "{\"text\": \"" + new string('x', 2_000) + "\"}";
        var hundred = "[" + string.Join(",", Enumerable.Repeat(demo, 100)) + "]";
        var justUnder = "[{\"text\": \"" + new string('x', CandidateRules.MaxDemosBytes - 14) + "\"}]";

        var valid = CandidateRules.Validate([Instruction(0, new string('x', 20_000)), Instruction(1, emoji), Demos(0, hundred), Demos(1, "[]"), Demos(2, justUnder)]);

        Assert.Equal(5, valid.Count);
        Assert.Equal(CandidateRules.MaxDemosBytes, System.Text.Encoding.UTF8.GetByteCount(justUnder));
        Assert.Contains("candidates[0].demos", Refused(Demos(0, justUnder.Insert(2, " "))).Keys);
    }

    [Fact]
    public void ABatchHoldsOneToAThousandCandidates()
    {
        Assert.Equal(["candidates"], Refused().Keys);
        Assert.Equal(["candidates"], Refused(Enumerable.Range(0, 1_001).Select(i => Instruction(i)).ToArray()).Keys);
        Assert.Equal(1_000, CandidateRules.Validate(Enumerable.Range(0, 1_000).Select(i => Instruction(i)).ToArray()).Count);
    }
}
