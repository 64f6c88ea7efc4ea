namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// Latency percentiles over a whole run in constant memory: logarithmic buckets 5 % wide, so a
/// percentile is within 2.5 % of the true value however many samples the run has.
/// </summary>
public sealed class LatencyHistogram
{
    private const double Growth = 1.05;
    private const int Buckets = 512; // 1.05^512 ms ≈ 7.4e10 ms: any latency fits.
    private static readonly double LogGrowth = Math.Log(Growth);

    private readonly long[] _counts = new long[Buckets];

    public long Count { get; private set; }

    /// <summary>A copy that can take more samples without changing this one.</summary>
    public LatencyHistogram Clone()
    {
        var copy = new LatencyHistogram { Count = Count };
        _counts.CopyTo(copy._counts, 0);
        return copy;
    }

    public void Add(double latencyMs)
    {
        var bucket = latencyMs <= 1 ? 0 : Math.Min(Buckets - 1, (int)(Math.Log(latencyMs) / LogGrowth) + 1);
        _counts[bucket]++;
        Count++;
    }

    /// <summary>The latency below which <paramref name="fraction"/> of the samples fall; null when empty.</summary>
    public double? Percentile(double fraction)
    {
        if (Count == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(fraction * Count);
        long seen = 0;
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            seen += _counts[bucket];
            if (seen >= Math.Max(rank, 1))
            {
                // The geometric middle of the bucket [1.05^(b-1), 1.05^b).
                return bucket == 0 ? 1 : Math.Round(Math.Pow(Growth, bucket - 0.5), 2);
            }
        }

        return null;
    }
}
