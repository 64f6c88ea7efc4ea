using System.ComponentModel;
using OptimizationRuns.Grains.Candidates;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>A batch of the run's candidates: 1 to 1,000, written all or nothing.</summary>
public sealed record CandidateBatchRequest
{
    /// <summary>
    /// The candidates, 1 to 1,000 per call. (predictor, kind, index) identifies one within the run: sending a stored
    /// candidate again with the same content is a duplicate (a no-op), with a different content a conflict (409).
    /// </summary>
    public required List<CandidateRequest> Candidates { get; init; }
}

/// <summary>One proposed instruction (<c>text</c>) or demo set (<c>demos</c>) of a predictor.</summary>
public sealed record CandidateRequest
{
    /// <summary>The predictor, as the iterations' params name it (DSPy's predictor index, "0", or its name): 1 to 200 characters.</summary>
    public required string Predictor { get; init; }

    /// <summary>instruction (has <c>text</c>) or demos (has <c>demos</c>).</summary>
    public required CandidateKind Kind { get; init; }

    /// <summary>The candidate's index among the predictor's candidates of its kind, 0 or more: the number an iteration's params choose it by.</summary>
    public required int Index { get; init; }

    /// <summary>An instruction's text: required for kind instruction, 1 to 20,000 characters; absent for demos.</summary>
    public string? Text { get; init; }

    /// <summary>A demo set: required for kind demos, a JSON array of at most 100 demo objects and at most 200 KB (204,800 bytes) of JSON; absent for an instruction.</summary>
    public RawJson? Demos { get; init; }

    public CandidateRecord ToRecord() => new(Predictor, Kind, Index, Text, Demos?.Text);
}

/// <summary>What a batch did: every candidate accepted, some inserted, the rest already stored as they are.</summary>
public sealed record CandidateBatchResponse(int Accepted, int Inserted, int Duplicates);

/// <summary>A run's candidates per predictor (numeric ids in numeric order, then names), with statistics from its iterations.</summary>
public sealed record RunCandidatesResponse(Guid RunId, IReadOnlyList<PredictorCandidatesResponse> Predictors)
{
    public static RunCandidatesResponse From(RunCandidates run) => new(run.RunId, run.Predictors.Select(p =>
        new PredictorCandidatesResponse(p.Predictor, CandidateSetResponse.From(p.Instruction), CandidateSetResponse.From(p.Demos))).ToList());
}

/// <summary>One predictor's instruction candidates and demo sets.</summary>
public sealed record PredictorCandidatesResponse(string Predictor, CandidateSetResponse Instruction, CandidateSetResponse Demos);

/// <summary>The candidates of one kind for one predictor, by index, and how much the choice among them explains.</summary>
public sealed record CandidateSetResponse(
    [property: Description(
        "The share of the variance of minibatch scores explained by which of these candidates a trial chose, in [0, 1]: one-way " +
        "ANOVA η² = SS_between / SS_total over the scored minibatch iterations that name a choice here, grouped by the chosen " +
        "index. Null when undefined: fewer than two such iterations, fewer than two candidates among them, or all scores equal.")]
    double? Importance,
    [property: Description("The scored minibatch iterations importance is computed over")] int ScoredTrials,
    [property: Description("The candidates by index: every recorded one, and every one an iteration chose (recorded or not)")]
    IReadOnlyList<CandidateResponse> Candidates)
{
    public static CandidateSetResponse From(CandidateSet set) =>
        new(set.Importance, set.ScoredTrials, set.Candidates.Select(CandidateResponse.From).ToList());
}

/// <summary>One candidate: its content when recorded, and the statistics of the run's iterations that chose it.</summary>
public sealed record CandidateResponse(
    int Index,
    [property: Description("Whether its content was recorded; false for a candidate that only iterations' params name (text and demos are then null)")]
    bool Recorded,
    [property: Description("An instruction's text")] string? Text,
    [property: Description("A demo set: a JSON array of demo objects")] RawJson? Demos,
    [property: Description("When it was recorded")] DateTimeOffset? CreatedAt,
    [property: Description("Iterations whose params chose it, of any kind, scored or not")] int TimesChosen,
    MinibatchStatisticsResponse Minibatch,
    FullStatisticsResponse Full,
    [property: Description("The best score of a full evaluation (baseline or full iteration) that chose it; minibatch scores never count")]
    decimal? BestScore,
    [property: Description("The best minibatch score of an iteration that chose it: a noisy estimate")] decimal? BestMinibatchScore)
{
    public static CandidateResponse From(CandidateView c) => new(
        c.Index, c.Recorded, c.Text, RawJson.From(c.DemosJson), c.CreatedAt, c.TimesChosen,
        new MinibatchStatisticsResponse(c.Minibatch.N, c.Minibatch.Mean,
            c.Minibatch is { Ci95Low: { } low, Ci95High: { } high } ? [low, high] : null),
        new FullStatisticsResponse(c.Full.N, c.Full.Mean), c.BestScore, c.BestMinibatchScore);
}

/// <summary>The scored minibatch iterations that chose the candidate.</summary>
public sealed record MinibatchStatisticsResponse(
    [property: Description("How many")] int N,
    [property: Description("Their mean score; null when none")] double? Mean,
    [property: Description(
        "The 95% confidence interval of the mean, [lo, hi], by Student's t: mean ± t(0.975, n − 1) · s / √n with s the sample " +
        "standard deviation; not clipped to the scores' [0, 1]. Null below two scores.")]
    IReadOnlyList<double>? Ci95);

/// <summary>The scored full evaluations (baseline and full iterations) that chose the candidate.</summary>
public sealed record FullStatisticsResponse(
    [property: Description("How many")] int N,
    [property: Description("Their mean score; null when none")] double? Mean);
