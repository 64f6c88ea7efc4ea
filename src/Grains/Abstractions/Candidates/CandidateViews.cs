namespace OptimizationRuns.Grains.Candidates;

/// <summary>A run's candidates, per predictor (numeric ids in numeric order, then names in ordinal order).</summary>
[GenerateSerializer, Immutable, Alias("candidates.RunCandidates")]
public sealed record RunCandidates(
    [property: Id(0)] Guid RunId,
    [property: Id(1)] IReadOnlyList<PredictorCandidates> Predictors);

/// <summary>One predictor's instruction candidates and demo sets.</summary>
[GenerateSerializer, Immutable, Alias("candidates.PredictorCandidates")]
public sealed record PredictorCandidates(
    [property: Id(0)] string Predictor,
    [property: Id(1)] CandidateSet Instruction,
    [property: Id(2)] CandidateSet Demos);

/// <summary>
/// The candidates of one kind for one predictor, by index, and how much the choice among them matters:
/// <see cref="Importance"/> is η² (SS_between / SS_total) of the scored minibatch iterations grouped by the index they
/// chose, over the <see cref="ScoredTrials"/> such iterations that name a choice; null when undefined (see
/// <c>CandidateStatistics.EtaSquared</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("candidates.CandidateSet")]
public sealed record CandidateSet(
    [property: Id(0)] double? Importance,
    [property: Id(1)] int ScoredTrials,
    [property: Id(2)] IReadOnlyList<CandidateView> Candidates);

/// <summary>
/// One candidate: its content when it was recorded (<see cref="Recorded"/>), and its statistics over the run's
/// iterations that chose it. Scores of full evaluations (kinds baseline and full) and minibatch scores are kept apart.
/// </summary>
[GenerateSerializer, Immutable, Alias("candidates.CandidateView")]
public sealed record CandidateView
{
    [Id(0)] public required int Index { get; init; }
    /// <summary>Whether the candidate's content was recorded; a candidate only iterations name has none.</summary>
    [Id(1)] public bool Recorded { get; init; }
    [Id(2)] public string? Text { get; init; }
    /// <summary>The demo set as stored JSON text (an array).</summary>
    [Id(3)] public string? DemosJson { get; init; }
    [Id(4)] public DateTimeOffset? CreatedAt { get; init; }
    /// <summary>Iterations whose params chose it, scored or not, of any kind.</summary>
    [Id(5)] public int TimesChosen { get; init; }
    [Id(6)] public required MinibatchStatistics Minibatch { get; init; }
    [Id(7)] public required FullStatistics Full { get; init; }
    /// <summary>The best score of a full evaluation (baseline or full) that chose it; a minibatch score is never the best.</summary>
    [Id(8)] public decimal? BestScore { get; init; }
    /// <summary>The best minibatch score of an iteration that chose it: an estimate.</summary>
    [Id(9)] public decimal? BestMinibatchScore { get; init; }
}

/// <summary>
/// The scored minibatch iterations that chose a candidate: how many, their mean, and the 95% confidence interval of
/// the mean by Student's t (mean ± t₀.₉₇₅,ₙ₋₁ · s / √n), null below two scores.
/// </summary>
[GenerateSerializer, Immutable, Alias("candidates.MinibatchStatistics")]
public sealed record MinibatchStatistics(
    [property: Id(0)] int N,
    [property: Id(1)] double? Mean,
    [property: Id(2)] double? Ci95Low,
    [property: Id(3)] double? Ci95High);

/// <summary>The scored full evaluations (kinds baseline and full) that chose a candidate: how many, and their mean.</summary>
[GenerateSerializer, Immutable, Alias("candidates.FullStatistics")]
public sealed record FullStatistics(
    [property: Id(0)] int N,
    [property: Id(1)] double? Mean);
