namespace OptimizationRuns.Grains.Comparisons;

/// <summary>
/// The statistics of a paired comparison: a paired-t confidence interval for the mean score delta, and McNemar's exact
/// test for success flips. Both are closed-form and deterministic: the same pairs always answer the same figures.
/// </summary>
public static class PairedStatistics
{
    /// <summary>
    /// The paired-t interval of a mean delta: mean ± t(1 − (1 − level)/2, n − 1) · √(variance / n), where
    /// <paramref name="variance"/> is the deltas' sample variance (n − 1 in the denominator). Null with fewer than two
    /// pairs, whose spread is unknown.
    /// </summary>
    /// <remarks>
    /// The t interval assumes the mean delta is about normal, which the central limit theorem gives for the tens to
    /// thousands of examples of an evaluation; for a handful of 0/1 scores it is only a rough guide.
    /// </remarks>
    public static (double Low, double High)? MeanDeltaInterval(long count, double mean, double variance, double level = 0.95)
    {
        if (level is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "Must be strictly between 0 and 1.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(variance);
        if (count < 2)
        {
            return null;
        }

        var halfWidth = StudentT.Quantile(1 - (1 - level) / 2, count - 1) * Math.Sqrt(variance / count);
        return (mean - halfWidth, mean + halfWidth);
    }

    /// <summary>
    /// McNemar's exact two-sided p-value for a paired 2×2 table's discordant cells: <paramref name="lost"/> pairs that
    /// succeeded in A and failed in B, <paramref name="gained"/> the other way round. Under no change each flip is a fair
    /// coin, so p = min(1, 2 · P(X ≤ min(lost, gained))) with X ~ Binomial(lost + gained, ½); 1 when nothing flipped.
    /// </summary>
    public static double McnemarExactP(long lost, long gained)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lost);
        ArgumentOutOfRangeException.ThrowIfNegative(gained);
        var n = lost + gained;
        var k = Math.Min(lost, gained);
        if (n == 0)
        {
            return 1;
        }

        // Σ_{i ≤ k} C(n, i) / 2ⁿ in logarithms, since C(n, i) overflows a double from n ≈ 1,030. The terms grow with i
        // (k ≤ n/2), so the sum is kept relative to the latest, largest one.
        var logTerm = -n * Math.Log(2);
        var relativeSum = 1.0;
        for (long i = 0; i < k; i++)
        {
            var next = logTerm + Math.Log(n - i) - Math.Log(i + 1);
            relativeSum = relativeSum * Math.Exp(logTerm - next) + 1;
            logTerm = next;
        }

        return Math.Min(1, 2 * Math.Exp(logTerm + Math.Log(relativeSum)));
    }
}
