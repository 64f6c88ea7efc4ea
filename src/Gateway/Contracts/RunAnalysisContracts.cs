using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// One iteration of a run's trajectory: its score, the best baseline or full score up to it (a minibatch score is
/// never the best), the best minibatch score up to it, and the samples, cost and tokens spent up to it.
/// </summary>
public sealed record TrajectoryPointResponse(
    int Iteration, IterationKind Kind, decimal? Score, decimal? BestSoFar, decimal? BestMinibatchSoFar,
    long CumulativeSamples, decimal CumulativeCostUsd, long CumulativeTokens, DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt)
{
    public static TrajectoryPointResponse From(TrajectoryPoint p) => new(
        p.Iteration, p.Kind, p.Score, p.BestSoFar, p.BestMinibatchSoFar, p.CumulativeSamples, p.CumulativeCostUsd,
        p.CumulativeTokens, p.StartedAt, p.CompletedAt);
}

/// <summary>
/// One example over a run. Samples without an example id are one example per distinct inputs: <c>exampleId</c> is
/// null and <c>inputsHash</c> the MD5 (hex) of the inputs as jsonb text. <c>scoreStdDev</c> is the population standard
/// deviation of its scores over its evaluations (one per iteration that evaluated it, as DSPy evaluates), so a hard
/// example scores low with a small deviation, and one that depends on the prompt has a large deviation.
/// </summary>
public sealed record ExampleResponse(
    string? ExampleId, string? InputsHash, long Evaluations, decimal? MeanScore, decimal? ScoreStdDev, long Failures,
    string? LastError, IReadOnlyList<IterationKind> Kinds)
{
    public static ExampleResponse From(ExampleDifficulty e) => new(
        e.ExampleId, e.InputsHash, e.Evaluations, e.MeanScore, e.ScoreStdDev, e.Failures, e.LastError, e.Kinds);
}
