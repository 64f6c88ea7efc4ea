using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Comparisons;

/// <summary>
/// Per-example comparisons of two iterations (of two runs, or two trials of one run), keyed by the caller's project id
/// (<c>GetGrain&lt;IRunComparisonGrain&gt;(projectId)</c>). Every query runs in a transaction set to that project, so a
/// run of another project, or none, throws <see cref="RunNotFoundException"/>; an iteration that cannot be compared
/// (named and absent, none to default to, or the same on both sides) throws <see cref="RunValidationException"/> naming
/// <c>aIteration</c> or <c>bIteration</c>.
/// </summary>
public interface IRunComparisonGrain : IGrainWithGuidKey
{
    /// <summary>The two iterations' samples paired by example: buckets, mean score delta with its interval, success flips.</summary>
    Task<RunComparison> CompareAsync(ComparisonQuery query, CancellationToken cancellationToken = default);

    /// <summary>A page of the pairs, in example-key order, optionally of one bucket.</summary>
    Task<ExamplePairPage> GetExamplesAsync(ComparisonExamplesQuery query, CancellationToken cancellationToken = default);
}
