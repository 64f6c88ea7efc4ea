namespace OptimizationRuns.Grains.Comparisons;

/// <summary>
/// Student's t distribution: its upper tail and quantiles, from the regularized incomplete beta function
/// (Lentz's continued fraction) and a Lanczos log-gamma. Accurate to about 1e-12, which an interval's bounds need
/// far less than; deterministic, with no state.
/// </summary>
public static class StudentT
{
    private const double Epsilon = 1e-15;
    private const double Tiny = 1e-300;
    private const int MaxTerms = 10_000;

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>P(T &gt; t) for t ≥ 0 with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double UpperTail(double t, double degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(degreesOfFreedom);
        return 0.5 * RegularizedBeta(degreesOfFreedom / (degreesOfFreedom + t * t), degreesOfFreedom / 2, 0.5);
    }

    /// <summary>The t with P(T ≤ t) = <paramref name="probability"/>, e.g. 0.975 for a 95 % two-sided interval.</summary>
    public static double Quantile(double probability, double degreesOfFreedom)
    {
        if (probability is <= 0 or >= 1 || double.IsNaN(probability))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Must be strictly between 0 and 1.");
        }

        if (probability < 0.5)
        {
            return -Quantile(1 - probability, degreesOfFreedom);
        }

        // Solved on the upper tail, which is small where intervals live, so no precision is lost to 1 − p.
        var tail = 1 - probability;
        double low = 0, high = 1;
        while (UpperTail(high, degreesOfFreedom) > tail)
        {
            low = high;
            high *= 2;
        }

        // The tail falls monotonically in t: bisection converges, to the last bits of a double within ~60 steps.
        for (var step = 0; step < 200 && high - low > 1e-15 * high; step++)
        {
            var middle = (low + high) / 2;
            if (UpperTail(middle, degreesOfFreedom) > tail)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return (low + high) / 2;
    }

    /// <summary>I_x(a, b), the regularized incomplete beta function.</summary>
    public static double RegularizedBeta(double x, double a, double b)
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
        // The continued fraction converges quickly on this side of the mean; the other side by symmetry.
        return x < (a + 1) / (a + b + 2)
            ? front * ContinuedFraction(x, a, b) / a
            : 1 - front * ContinuedFraction(1 - x, b, a) / b;
    }

    /// <summary>ln Γ(x) for x ≥ 0.5 (Lanczos, g = 7).</summary>
    public static double LogGamma(double x)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(x, 0.5);
        x -= 1;
        var sum = Lanczos[0];
        for (var i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    // The incomplete beta's continued fraction by the modified Lentz method.
    private static double ContinuedFraction(double x, double a, double b)
    {
        var c = 1.0;
        var d = 1 - (a + b) * x / (a + 1);
        d = 1 / NotTiny(d);
        var result = d;
        for (var m = 1; m <= MaxTerms; m++)
        {
            var even = m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m));
            d = 1 / NotTiny(1 + even * d);
            c = NotTiny(1 + even / c);
            result *= d * c;

            var odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m));
            d = 1 / NotTiny(1 + odd * d);
            c = NotTiny(1 + odd / c);
            var step = d * c;
            result *= step;
            if (Math.Abs(step - 1) < Epsilon)
            {
                break;
            }
        }

        return result;
    }

    private static double NotTiny(double value) => Math.Abs(value) < Tiny ? Tiny : value;
}
