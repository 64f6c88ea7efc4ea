using OptimizationRuns.Grains.Comparisons;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Comparisons;

/// <summary>
/// The comparison's statistics against figures computed by hand (or exactly, with integers, where a hand would tire):
/// McNemar's exact p from 2×2 tables, Student's t quantiles, a paired-t interval, and how sums become a comparison.
/// </summary>
public sealed class PairedStatisticsTests
{
    // Exact two-sided p = 2 · Σ_{i ≤ min(b, c)} C(b + c, i) / 2^(b + c), capped at 1; the large ones were summed with
    // Python's exact integers (fractions.Fraction over math.comb).
    [Theory]
    [InlineData(8, 2, 0.109375)] // 2 · (1 + 10 + 45) / 1024
    [InlineData(2, 8, 0.109375)]
    [InlineData(0, 5, 0.0625)] // 2 · 1 / 32
    [InlineData(1, 9, 0.021484375)] // 2 · (1 + 10) / 1024
    [InlineData(5, 5, 1.0)] // 2 · 638 / 1024 > 1
    [InlineData(0, 0, 1.0)] // nothing flipped
    [InlineData(1, 0, 1.0)] // 2 · ½
    [InlineData(40, 60, 0.05688793364098079)]
    [InlineData(600, 400, 2.7284641560660184e-10)]
    [InlineData(1450, 1550, 0.07066904481175774)] // C(3000, i) overflows a double
    public void McnemarExactPIsTheTwoSidedBinomialTail(long lost, long gained, double expected)
    {
        var p = PairedStatistics.McnemarExactP(lost, gained);

        Assert.Equal(expected, p, expected * 1e-9);
    }

    [Fact]
    public void McnemarRefusesNegativeCounts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedStatistics.McnemarExactP(-1, 3));
    }

    // df 1 and 2 have closed forms: tan(π (p − ½)) and q √(2 / (1 − q²)) with q = 2p − 1; the others are the table's
    // (checked against an independent Simpson integration of the density).
    [Theory]
    [InlineData(1, 12.706204736174696)]
    [InlineData(2, 4.302652729749463)]
    [InlineData(4, 2.7764451051977934)]
    [InlineData(9, 2.2621571627982053)]
    [InlineData(29, 2.045229642132703)]
    [InlineData(999, 1.9623414611334487)]
    public void StudentTQuantilesMatchTheTable(int degreesOfFreedom, double expected)
    {
        Assert.Equal(expected, StudentT.Quantile(0.975, degreesOfFreedom), 1e-9);
        Assert.Equal(-expected, StudentT.Quantile(0.025, degreesOfFreedom), 1e-9);
        Assert.Equal(0.025, StudentT.UpperTail(expected, degreesOfFreedom), 1e-12);
    }

    [Fact]
    public void PairedTIntervalIsMeanPlusMinusTTimesStandardError()
    {
        // Deltas 0.1, 0.2, 0.3, 0.0, 0.4: mean 0.2; squared deviations 0.01 + 0 + 0.01 + 0.04 + 0.04 = 0.1, variance
        // 0.1 / 4 = 0.025; standard error √(0.025 / 5) = 0.0707107; t(0.975, 4) = 2.7764451; half-width 0.1963243.
        var interval = PairedStatistics.MeanDeltaInterval(5, 0.2, 0.025);

        Assert.NotNull(interval);
        Assert.Equal(0.0036756838522439, interval.Value.Low, 1e-9);
        Assert.Equal(0.3963243161477561, interval.Value.High, 1e-9);
    }

    [Fact]
    public void PairedTIntervalNeedsTwoPairsAndIsAPointWithoutSpread()
    {
        Assert.Null(PairedStatistics.MeanDeltaInterval(0, 0, 0));
        Assert.Null(PairedStatistics.MeanDeltaInterval(1, 0.5, 0));
        Assert.Equal((0.25, 0.25), PairedStatistics.MeanDeltaInterval(10, 0.25, 0));
        // A wider level is a wider interval around the same mean.
        var (low95, high95) = PairedStatistics.MeanDeltaInterval(30, 0.1, 0.04)!.Value;
        var (low99, high99) = PairedStatistics.MeanDeltaInterval(30, 0.1, 0.04, 0.99)!.Value;
        Assert.True(low99 < low95 && high95 < high99);
        Assert.Equal(0.1, (low99 + high99) / 2, 1e-12);
    }

    private static readonly ComparedIteration A = new() { RunId = Guid.NewGuid(), Iteration = 0, Kind = IterationKind.Baseline };
    private static readonly ComparedIteration B = new() { RunId = Guid.NewGuid(), Iteration = 4, Kind = IterationKind.Full };

    [Theory]
    [InlineData(5, 3, 2, false, 0.5)] // half of the union paired: not low
    [InlineData(4, 3, 2, true, 4.0 / 9)]
    [InlineData(0, 3, 0, true, 0.0)]
    [InlineData(0, 0, 0, true, 0.0)] // nothing to compare
    [InlineData(10, 0, 0, false, 1.0)]
    public void LowOverlapIsLessThanHalfOfTheUnionPaired(long paired, long onlyA, long onlyB, bool low, double overlap)
    {
        var comparison = RunComparisonGrain.Summarise(A, B, new PairAggregates { Paired = paired, OnlyA = onlyA, OnlyB = onlyB });

        Assert.Equal(low, comparison.LowOverlap);
        Assert.Equal(overlap, comparison.Overlap, 1e-12);
    }

    [Fact]
    public void SumsBecomeTheComparisonWithItsStatistics()
    {
        var comparison = RunComparisonGrain.Summarise(A, B, new PairAggregates
        {
            Paired = 10, OnlyA = 1, OnlyB = 2, Scored = 5, MeanDelta = 0.2, DeltaVariance = 0.025,
            SuccessLost = 2, SuccessGained = 8, DuplicateKeysA = 1, DuplicateSamplesA = 2, DuplicateExamplesA = ["ex-3"],
        });

        Assert.Equal((13, 12), (comparison.SamplesA, comparison.SamplesB));
        Assert.Equal(0.109375, comparison.McnemarP, 1e-12);
        Assert.Equal(0.95, comparison.MeanDeltaCi!.Level);
        Assert.Equal(0.0036756838522439, comparison.MeanDeltaCi.Low, 1e-9);
        Assert.Equal((1, 2), (comparison.DuplicatesA.Count, comparison.DuplicatesA.ExtraSamples));
        Assert.Equal(["ex-3"], comparison.DuplicatesA.ExampleKeys);
        Assert.Equal((0, 0), (comparison.DuplicatesB.Count, comparison.DuplicatesB.ExampleKeys.Count));
    }
}
