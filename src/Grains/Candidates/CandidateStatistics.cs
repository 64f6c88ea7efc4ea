using OptimizationRuns.Grains.Comparisons;
using System.Collections.Concurrent;

namespace OptimizationRuns.Grains.Candidates;

/// <summary>How many scores a group has, their mean and their sample variance (divided by n − 1; 0 below two scores).</summary>
public readonly record struct ScoreGroup(long N, double Mean, double Variance)
{
    /// <summary>The group of <paramref name="scores"/> (two passes, so the variance does not cancel).</summary>
    public static ScoreGroup Of(IEnumerable<double> scores)
    {
        var values = scores.ToList();
        if (values.Count == 0)
        {
            return new ScoreGroup(0, 0, 0);
        }

        var mean = values.Average();
        var variance = values.Count < 2 ? 0 : values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return new ScoreGroup(values.Count, mean, variance);
    }
}

/// <summary>
/// The statistics a run's candidates are compared by: the t confidence interval of a candidate's mean minibatch score,
/// and the share of the minibatch scores' variance that the choice among a predictor's candidates explains (η²).
/// Plain arithmetic on group summaries (n, mean, variance), which the database aggregates.
/// </summary>
public static class CandidateStatistics
{
    // Below this a sum of squares is rounding, not spread: distinct 4-decimal scores give at least 5e-9.
    private const double NoSpread = 1e-12;

    private static readonly ConcurrentDictionary<long, double> T975 = new();

    /// <summary>
    /// The 95% confidence interval of the group's mean by Student's t: mean ± t(0.975, n − 1) · s / √n. Null below two
    /// scores, where the spread is unknown.
    /// </summary>
    public static (double Low, double High)? ConfidenceInterval95(ScoreGroup group)
    {
        if (group.N < 2)
        {
            return null;
        }

        var half = StudentT975(group.N - 1) * Math.Sqrt(Math.Max(group.Variance, 0) / group.N);
        return (group.Mean - half, group.Mean + half);
    }

    /// <summary>
    /// One-way ANOVA η² = SS_between / SS_total of the scores in <paramref name="groups"/> (one group per chosen candidate):
    /// SS_between = Σ nᵢ (meanᵢ − mean)², SS_total = SS_between + Σ (nᵢ − 1) varianceᵢ. In [0, 1]. Null when it says
    /// nothing: fewer than two scores, fewer than two groups with scores, or scores that are all equal.
    /// </summary>
    public static double? EtaSquared(IEnumerable<ScoreGroup> groups)
    {
        var scored = groups.Where(g => g.N > 0).ToList();
        var n = scored.Sum(g => g.N);
        if (n < 2 || scored.Count < 2)
        {
            return null;
        }

        var mean = scored.Sum(g => g.N * g.Mean) / n;
        var between = scored.Sum(g => g.N * (g.Mean - mean) * (g.Mean - mean));
        var within = scored.Sum(g => (g.N - 1) * Math.Max(g.Variance, 0));
        var total = between + within;
        return total <= NoSpread ? null : Math.Clamp(between / total, 0, 1);
    }

    /// <summary>The 0.975 quantile of Student's t with <paramref name="degreesOfFreedom"/> (12.706 for 1, → 1.960).</summary>
    public static double StudentT975(long degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        return T975.GetOrAdd(degreesOfFreedom, static df => StudentT.Quantile(0.975, df));
    }
}
