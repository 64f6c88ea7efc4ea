using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Comparisons;

/// <summary>
/// What the two sides of a comparison resolved to, or why they cannot be compared: a run the project cannot see is
/// not found; a named iteration that does not exist, a run with nothing to default to, and the same iteration on both
/// sides are invalid requests naming <c>aIteration</c> or <c>bIteration</c> (the parameter that would fix them).
/// </summary>
public static class ComparisonSides
{
    /// <summary>Both sides' iterations; throws <see cref="RunNotFoundException"/> or <see cref="RunValidationException"/>.</summary>
    public static (ComparedIteration A, ComparedIteration B) Resolve(ComparisonQuery query, ResolvedSideRow a, ResolvedSideRow b)
    {
        if (!a.RunVisible)
        {
            throw new RunNotFoundException(query.A.RunId);
        }

        if (!b.RunVisible)
        {
            throw new RunNotFoundException(query.B.RunId);
        }

        var errors = new Dictionary<string, string[]>();
        var resolvedA = Iteration(query.A, a, "aIteration", errors);
        var resolvedB = Iteration(query.B, b, "bIteration", errors);
        if (resolvedA is not null && resolvedB is not null && resolvedA.RunId == resolvedB.RunId && resolvedA.Iteration == resolvedB.Iteration)
        {
            errors["bIteration"] =
            [
                $"Both sides are iteration {resolvedA.Iteration} of run {resolvedA.RunId}: name different iterations with aIteration and bIteration.",
            ];
        }

        if (errors.Count > 0)
        {
            throw new RunValidationException(errors);
        }

        return (resolvedA!, resolvedB!);
    }

    private static ComparedIteration? Iteration(ComparisonSide side, ResolvedSideRow row, string parameter, Dictionary<string, string[]> errors)
    {
        if (row is { Iteration: { } iteration, Kind: { } kind })
        {
            return new ComparedIteration
            {
                RunId = side.RunId,
                Iteration = iteration,
                Kind = DomainNames.ParseName<IterationKind>(kind),
                Score = row.Score,
                Defaulted = side.Iteration is null,
            };
        }

        errors[parameter] = side.Iteration is { } named
            ? [$"Run {side.RunId} has no iteration {named}."]
            : [$"Run {side.RunId} has no scored full evaluation and no baseline to compare by default: name an iteration with {parameter}."];
        return null;
    }
}
