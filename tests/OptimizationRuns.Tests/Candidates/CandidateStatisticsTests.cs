using OptimizationRuns.Grains.Candidates;
using Xunit;

namespace OptimizationRuns.Tests.Candidates;

/// <summary>The t interval and η² against values computed by hand (the arithmetic is in each test).</summary>
public sealed class CandidateStatisticsTests
{
    private const double Tolerance = 1e-9;

    [Theory]
    // Student's t, 0.975 quantile, from the published tables.
    [InlineData(1, 12.706204736)]
    [InlineData(2, 4.302652730)]
    [InlineData(3, 3.182446305)]
    [InlineData(4, 2.776445105)]
    [InlineData(9, 2.262157163)]
    [InlineData(29, 2.045229642)]
    [InlineData(100, 1.983971519)]
    [InlineData(1_000_000, 1.959966)]
    public void TQuantileMatchesTheTables(long degreesOfFreedom, double expected) =>
        Assert.Equal(expected, CandidateStatistics.StudentT975(degreesOfFreedom), 5);

    [Fact]
    public void ConfidenceIntervalIsTheMeanPlusOrMinusTTimesTheStandardError()
    {
        // Scores 0.5, 0.6, 0.7, 0.8: mean 0.65; deviations ±0.15, ±0.05, so s² = (2·0.0225 + 2·0.0025) / 3 = 0.05 / 3;
        // s / √n = √(0.05 / 12) = 0.0645497224; t(0.975, 3) = 3.1824463053; half width 0.2054260257.
        var group = ScoreGroup.Of([0.5, 0.6, 0.7, 0.8]);

        var interval = CandidateStatistics.ConfidenceInterval95(group);

        Assert.Equal(4, group.N);
        Assert.Equal(0.65, group.Mean, Tolerance);
        Assert.Equal(0.05 / 3, group.Variance, Tolerance);
        Assert.NotNull(interval);
        Assert.Equal(0.4445739743, interval.Value.Low, 1e-9);
        Assert.Equal(0.8554260257, interval.Value.High, 1e-9);
    }

    [Fact]
    public void TwoScoresUseTheWideIntervalOfOneDegreeOfFreedomUnclipped()
    {
        // 0.2 and 0.4: mean 0.3, s² = 0.02, s / √2 = 0.1; t(0.975, 1) = 12.7062047362: 0.3 ± 1.2706204736.
        var interval = CandidateStatistics.ConfidenceInterval95(ScoreGroup.Of([0.2, 0.4]));

        Assert.Equal(-0.9706204736, interval!.Value.Low, 1e-9);
        Assert.Equal(1.5706204736, interval.Value.High, 1e-9);
    }

    [Fact]
    public void OneScoreHasNoInterval()
    {
        Assert.Null(CandidateStatistics.ConfidenceInterval95(ScoreGroup.Of([0.7])));
        Assert.Null(CandidateStatistics.ConfidenceInterval95(ScoreGroup.Of([])));
    }

    [Fact]
    public void EtaSquaredIsTheBetweenGroupsShareOfTheTotalSumOfSquares()
    {
        // Groups {0.2, 0.4}, {0.6, 0.8}, {0.5}: grand mean 2.5 / 5 = 0.5.
        // SS_total = 0.09 + 0.01 + 0.01 + 0.09 + 0 = 0.20; group means 0.3, 0.7, 0.5,
        // SS_between = 2·0.04 + 2·0.04 + 1·0 = 0.16; η² = 0.16 / 0.20 = 0.8.
        var eta = CandidateStatistics.EtaSquared([ScoreGroup.Of([0.2, 0.4]), ScoreGroup.Of([0.6, 0.8]), ScoreGroup.Of([0.5])]);

        Assert.Equal(0.8, eta!.Value, Tolerance);
    }

    [Fact]
    public void EtaSquaredOfOverlappingGroupsIsSmall()
    {
        // {0.2, 0.4} and {0.3, 0.5}: grand mean 0.35; SS_total = 0.0225 + 0.0025 + 0.0025 + 0.0225 = 0.05;
        // means 0.3, 0.4: SS_between = 2·0.0025 + 2·0.0025 = 0.01; η² = 0.2.
        var eta = CandidateStatistics.EtaSquared([ScoreGroup.Of([0.2, 0.4]), ScoreGroup.Of([0.3, 0.5])]);

        Assert.Equal(0.2, eta!.Value, Tolerance);
    }

    [Fact]
    public void EtaSquaredFromSummariesIsTheSameAsFromScores()
    {
        // The database hands over (n, mean, sample variance) per group, not the scores.
        var fromSummaries = CandidateStatistics.EtaSquared(
            [new ScoreGroup(2, 0.3, 0.02), new ScoreGroup(2, 0.7, 0.02), new ScoreGroup(1, 0.5, 0), new ScoreGroup(0, 0, 0)]);

        Assert.Equal(0.8, fromSummaries!.Value, Tolerance);
    }

    [Fact]
    public void EtaSquaredIsUndefinedWithoutTwoGroupsOrWithoutSpread()
    {
        Assert.Null(CandidateStatistics.EtaSquared([]));
        Assert.Null(CandidateStatistics.EtaSquared([ScoreGroup.Of([0.2, 0.4, 0.9])]));
        Assert.Null(CandidateStatistics.EtaSquared([ScoreGroup.Of([0.5]), ScoreGroup.Of([])]));
        Assert.Null(CandidateStatistics.EtaSquared([ScoreGroup.Of([0.5, 0.5]), ScoreGroup.Of([0.5])]));
    }

    [Fact]
    public void EtaSquaredIsOneWhenEveryGroupIsConstant()
    {
        Assert.Equal(1.0, CandidateStatistics.EtaSquared([ScoreGroup.Of([0.2, 0.2]), ScoreGroup.Of([0.6])])!.Value, Tolerance);
    }
}
