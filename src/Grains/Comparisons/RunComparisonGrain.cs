using OptimizationRuns.Grains.Data;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Comparisons;

/// <summary>
/// Per-example comparisons, keyed by the project id. Stateless and local to the silo that takes the call: the pairing
/// and its sums happen in PostgreSQL, the statistics on those few sums here.
/// </summary>
/// <remarks>Reentrant: it holds no state, so one activation may wait on many comparisons at once.</remarks>
[StatelessWorker, Reentrant]
public sealed class RunComparisonGrain(ComparisonQueries comparisons) : Grain, IRunComparisonGrain
{
    public const double Level = 0.95;

    private Guid ProjectId => this.GetPrimaryKey();

    /// <inheritdoc />
    public async Task<RunComparison> CompareAsync(ComparisonQuery query, CancellationToken cancellationToken = default)
    {
        var (a, b, pairs) = await comparisons.CompareAsync(ProjectId, query, cancellationToken);
        return Summarise(a, b, pairs);
    }

    /// <inheritdoc />
    public async Task<ExamplePairPage> GetExamplesAsync(ComparisonExamplesQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Math.Clamp(query.Limit, 1, ComparisonExamplesQuery.MaxLimit);
        // One more than the page shows: whether it exists decides whether there is a next page.
        var (a, b, rows) = await comparisons.PageAsync(ProjectId, query, limit + 1, cancellationToken);
        var items = rows.Take(limit).Select(ToPair).ToList();
        return new ExamplePairPage(a, b, items, rows.Count > limit ? items[^1].ExampleKey : null);
    }

    /// <summary>The comparison of two resolved iterations from their pairs' sums.</summary>
    public static RunComparison Summarise(ComparedIteration a, ComparedIteration b, PairAggregates pairs)
    {
        var union = pairs.Paired + pairs.OnlyA + pairs.OnlyB;
        var interval = pairs is { MeanDelta: { } mean, DeltaVariance: { } variance }
            ? PairedStatistics.MeanDeltaInterval(pairs.Scored, mean, variance, Level)
            : null;
        return new RunComparison
        {
            A = a,
            B = b,
            SamplesA = (int)(pairs.Paired + pairs.OnlyA + pairs.DuplicateSamplesA),
            SamplesB = (int)(pairs.Paired + pairs.OnlyB + pairs.DuplicateSamplesB),
            Paired = (int)pairs.Paired,
            Improved = (int)pairs.Improved,
            Regressed = (int)pairs.Regressed,
            Unchanged = (int)pairs.Unchanged,
            Unscored = (int)pairs.Unscored,
            OnlyA = (int)pairs.OnlyA,
            OnlyB = (int)pairs.OnlyB,
            Overlap = union == 0 ? 0 : (double)pairs.Paired / union,
            // Nothing in common (or nothing at all) is the lowest overlap there is.
            LowOverlap = 2 * pairs.Paired < union || union == 0,
            MeanScoreA = pairs.MeanScoreA,
            MeanScoreB = pairs.MeanScoreB,
            MeanDelta = pairs.MeanDelta,
            MeanDeltaCi = interval is { } ci ? new ConfidenceInterval(Level, ci.Low, ci.High) : null,
            SuccessA = (int)pairs.SuccessA,
            SuccessB = (int)pairs.SuccessB,
            SuccessGained = (int)pairs.SuccessGained,
            SuccessLost = (int)pairs.SuccessLost,
            McnemarP = PairedStatistics.McnemarExactP(pairs.SuccessLost, pairs.SuccessGained),
            MeanCostUsdA = pairs.MeanCostUsdA,
            MeanCostUsdB = pairs.MeanCostUsdB,
            MeanCostUsdDelta = pairs.MeanCostUsdDelta,
            MeanTokensA = pairs.MeanTokensA,
            MeanTokensB = pairs.MeanTokensB,
            MeanTokensDelta = pairs.MeanTokensDelta,
            MeanLatencyMsA = pairs.MeanLatencyMsA,
            MeanLatencyMsB = pairs.MeanLatencyMsB,
            MeanLatencyMsDelta = pairs.MeanLatencyMsDelta,
            DuplicatesA = Duplicates(pairs.DuplicateKeysA, pairs.DuplicateSamplesA, pairs.DuplicateExamplesA),
            DuplicatesB = Duplicates(pairs.DuplicateKeysB, pairs.DuplicateSamplesB, pairs.DuplicateExamplesB),
        };
    }

    private static DuplicateExamples Duplicates(long keys, long extraSamples, string[]? listed) =>
        new() { Count = (int)keys, ExtraSamples = (int)extraSamples, ExampleKeys = listed ?? [] };

    private static ExamplePair ToPair(ExamplePairRow row) => new()
    {
        ExampleKey = row.ExampleKey,
        ExampleId = row.ExampleId,
        Bucket = ComparisonBuckets.Parse(row.Bucket),
        InputsJson = row.InputsJson,
        ExpectedJson = row.ExpectedJson,
        A = row.ASampleIndex is { } a
            ? new PairedSample
            {
                SampleIndex = a, Score = row.AScore, Success = row.ASuccess ?? false, PredictionJson = row.APredictionJson,
                Error = row.AError, LatencyMs = row.ALatencyMs, PromptTokens = row.APromptTokens ?? 0,
                CompletionTokens = row.ACompletionTokens ?? 0, CostUsd = row.ACostUsd ?? 0, TraceId = row.ATraceId, SpanId = row.ASpanId,
            }
            : null,
        B = row.BSampleIndex is { } b
            ? new PairedSample
            {
                SampleIndex = b, Score = row.BScore, Success = row.BSuccess ?? false, PredictionJson = row.BPredictionJson,
                Error = row.BError, LatencyMs = row.BLatencyMs, PromptTokens = row.BPromptTokens ?? 0,
                CompletionTokens = row.BCompletionTokens ?? 0, CostUsd = row.BCostUsd ?? 0, TraceId = row.BTraceId, SpanId = row.BSpanId,
            }
            : null,
    };
}
