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
        return T975.GetOrAdd(degreesOfFreedom, static df => SolveTwoSidedTail(df, 0.05));
    }

    // P(|T| > t) = I_{df / (df + t²)}(df / 2, 1 / 2) falls as t grows: bisect until it is the wanted tail.
    private static double SolveTwoSidedTail(long df, double tail)
    {
        double low = 0, high = 1_000;
        for (var i = 0; i < 200 && high - low > 1e-12; i++)
        {
            var t = (low + high) / 2;
            if (RegularizedIncompleteBeta(df / 2.0, 0.5, df / (df + t * t)) > tail)
            {
                low = t;
            }
            else
            {
                high = t;
            }
        }

        return (low + high) / 2;
    }

    // I_x(a, b) by its continued fraction (modified Lentz), on the side of x where it converges fast.
    private static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        var front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaContinuedFraction(a, b, x) / a
            : 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
    }

    private static double BetaContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        var c = 1.0;
        var d = 1 - (a + b) * x / (a + 1);
        d = 1 / (Math.Abs(d) < tiny ? tiny : d);
        var h = d;
        for (var m = 1; m <= 500; m++)
        {
            var m2 = 2 * m;
            var even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + even * d;
            d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + even / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            h *= d * c;
            var odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + odd * d;
            d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + odd / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            var step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < 1e-15)
            {
                break;
            }
        }

        return h;
    }

    // Lanczos (g = 7, 9 terms): about 15 significant digits for x ≥ 0.5, which is all this class asks of it.
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    private static double LogGamma(double x)
    {
        x -= 1;
        var sum = Lanczos[0];
        for (var i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
