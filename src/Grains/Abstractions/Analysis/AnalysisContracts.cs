using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Analysis;

/// <summary>
/// One iteration of a run's trajectory, with what the run had reached by its end. The best score counts baseline
/// and full evaluations only (MIPROv2's rule: a minibatch score is a noisy estimate); the best minibatch score is
/// kept beside it. Cumulative figures add up this iteration and every one before it.
/// </summary>
[GenerateSerializer, Immutable, Alias("analysis.TrajectoryPoint")]
public sealed record TrajectoryPoint
{
    [Id(0)] public required int Iteration { get; init; }
    [Id(1)] public required IterationKind Kind { get; init; }
    /// <summary>This iteration's score; null while it has none.</summary>
    [Id(2)] public decimal? Score { get; init; }
    /// <summary>The best baseline or full score up to here; null before the first one.</summary>
    [Id(3)] public decimal? BestSoFar { get; init; }
    /// <summary>The best minibatch score up to here; null before the first one.</summary>
    [Id(4)] public decimal? BestMinibatchSoFar { get; init; }
    [Id(5)] public long CumulativeSamples { get; init; }
    [Id(6)] public decimal CumulativeCostUsd { get; init; }
    /// <summary>Prompt and completion tokens up to here.</summary>
    [Id(7)] public long CumulativeTokens { get; init; }
    [Id(8)] public DateTimeOffset? StartedAt { get; init; }
    [Id(9)] public DateTimeOffset? CompletedAt { get; init; }
}

/// <summary>The orders of a run's examples.</summary>
public enum ExampleSort
{
    /// <summary>Lowest mean score first (examples without any score first of all), then most failures.</summary>
    Hardest,
    /// <summary>Largest spread of the scores first (examples without any score last), then most evaluations.</summary>
    Flakiest,
}

/// <summary>A page of a run's examples: which evaluations count, the order, the page size (1–500) and where to continue.</summary>
[GenerateSerializer, Immutable, Alias("analysis.ExampleQuery")]
public sealed record ExampleQuery
{
    [Id(0)] public required Guid RunId { get; init; }
    [Id(1)] public ExampleSort Sort { get; init; }
    /// <summary>Only evaluations in iterations of this kind count; null: all of them.</summary>
    [Id(2)] public IterationKind? Kind { get; init; }
    /// <summary>Only examples with at least this many (counted) evaluations.</summary>
    [Id(3)] public int MinEvaluations { get; init; } = 1;
    [Id(4)] public int Limit { get; init; } = 50;
    [Id(5)] public ExamplePosition? After { get; init; }
}

/// <summary>
/// Where an example stands in a page's order: the order's two sort values, both ascending as the query compares
/// them (hardest: the mean score with -1 for none, then minus the failures; flakiest: minus the deviation with 1
/// for none, then minus the evaluations), then the example's key (<c>id:&lt;exampleId&gt;</c> or
/// <c>inputs:&lt;inputsHash&gt;</c>, in byte order).
/// </summary>
[GenerateSerializer, Immutable, Alias("analysis.ExamplePosition")]
public sealed record ExamplePosition(
    [property: Id(0)] decimal First,
    [property: Id(1)] long Second,
    [property: Id(2)] string Key);

/// <summary>
/// One example over a run: how often it was evaluated, how it scored and failed, in which kinds of iteration, and
/// how much its score depends on the candidate: the population standard deviation of its scores over its evaluations,
/// which is the spread across the iterations (candidates) that evaluated it when each evaluated it once, as DSPy does.
/// </summary>
[GenerateSerializer, Immutable, Alias("analysis.ExampleDifficulty")]
public sealed record ExampleDifficulty
{
    /// <summary>The samples' example id; null when they had none and are grouped by <see cref="InputsHash"/>.</summary>
    [Id(0)] public string? ExampleId { get; init; }
    /// <summary>For samples without an example id: the MD5 (hex) of their inputs as jsonb text (null inputs as <c>null</c>).</summary>
    [Id(1)] public string? InputsHash { get; init; }
    [Id(2)] public long Evaluations { get; init; }
    /// <summary>The mean of its scores (unscored samples left out), to 6 places; null when none was scored.</summary>
    [Id(3)] public decimal? MeanScore { get; init; }
    /// <summary>The population standard deviation of its scores over its evaluations, to 6 places (0 for one); null when none was scored.</summary>
    [Id(4)] public decimal? ScoreStdDev { get; init; }
    /// <summary>Evaluations that did not succeed.</summary>
    [Id(5)] public long Failures { get; init; }
    /// <summary>The error of its last failed evaluation (by iteration, then sample index); null when none failed or it gave none.</summary>
    [Id(6)] public string? LastError { get; init; }
    /// <summary>The kinds of the iterations that evaluated it, baseline → minibatch → full.</summary>
    [Id(7)] public required IReadOnlyList<IterationKind> Kinds { get; init; }
}

/// <summary>A page of examples and, when more follow, the position to continue after.</summary>
[GenerateSerializer, Immutable, Alias("analysis.ExamplePage")]
public sealed record ExamplePage(
    [property: Id(0)] IReadOnlyList<ExampleDifficulty> Items,
    [property: Id(1)] ExamplePosition? Next);
