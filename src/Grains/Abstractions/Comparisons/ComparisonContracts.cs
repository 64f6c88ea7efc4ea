using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Comparisons;

/// <summary>
/// Where an example falls when iteration A is compared with iteration B: a paired example's score went up, down or
/// stayed (or one side has no score); an unpaired example is in one iteration only.
/// </summary>
public enum ComparisonBucket
{
    Improved,
    Regressed,
    Unchanged,
    /// <summary>Paired, but at least one of the two samples has no score.</summary>
    Unscored,
    OnlyA,
    OnlyB,
}

/// <summary>The buckets' names, as the REST contract and the comparison's SQL spell them (<c>onlyA</c>, not <c>only_a</c>).</summary>
public static class ComparisonBuckets
{
    private static readonly Dictionary<ComparisonBucket, string> ByValue = new()
    {
        [ComparisonBucket.Improved] = "improved",
        [ComparisonBucket.Regressed] = "regressed",
        [ComparisonBucket.Unchanged] = "unchanged",
        [ComparisonBucket.Unscored] = "unscored",
        [ComparisonBucket.OnlyA] = "onlyA",
        [ComparisonBucket.OnlyB] = "onlyB",
    };

    private static readonly Dictionary<string, ComparisonBucket> ByName =
        ByValue.ToDictionary(e => e.Value, e => e.Key, StringComparer.Ordinal);

    /// <summary>Every name, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } = Enum.GetValues<ComparisonBucket>().Select(b => ByValue[b]).ToList();

    public static string ToName(this ComparisonBucket bucket) => ByValue[bucket];

    public static bool TryParse(string? name, out ComparisonBucket bucket)
    {
        if (name is not null && ByName.TryGetValue(name, out bucket))
        {
            return true;
        }

        bucket = default;
        return false;
    }

    /// <summary>The bucket of a name the comparison's SQL answers.</summary>
    public static ComparisonBucket Parse(string name) =>
        TryParse(name, out var bucket) ? bucket : throw new FormatException($"Unknown comparison bucket '{name}'.");
}

/// <summary>One side of a comparison: a run and, optionally, its iteration (default: the best full evaluation, else the baseline).</summary>
[GenerateSerializer, Immutable, Alias("comparisons.ComparisonSide")]
public sealed record ComparisonSide(
    [property: Id(0)] Guid RunId,
    [property: Id(1)] int? Iteration = null);

/// <summary>Compare iteration A with iteration B (B − A: a positive delta means B scored higher).</summary>
[GenerateSerializer, Immutable, Alias("comparisons.ComparisonQuery")]
public sealed record ComparisonQuery(
    [property: Id(0)] ComparisonSide A,
    [property: Id(1)] ComparisonSide B);

/// <summary>A page of a comparison's pairs: optionally one bucket, page size (1–500), and the example key to continue after.</summary>
[GenerateSerializer, Immutable, Alias("comparisons.ComparisonExamplesQuery")]
public sealed record ComparisonExamplesQuery
{
    public const int MaxLimit = 500;

    [Id(0)] public required ComparisonQuery Comparison { get; init; }
    /// <summary>Only the pairs of this bucket; null for every pair.</summary>
    [Id(1)] public ComparisonBucket? Bucket { get; init; }
    [Id(2)] public int Limit { get; init; } = 50;
    /// <summary>The example key of the previous page's last pair; null for the first page.</summary>
    [Id(3)] public string? AfterKey { get; init; }
}

/// <summary>The iteration a side of a comparison resolved to.</summary>
[GenerateSerializer, Immutable, Alias("comparisons.ComparedIteration")]
public sealed record ComparedIteration
{
    [Id(0)] public required Guid RunId { get; init; }
    [Id(1)] public required int Iteration { get; init; }
    [Id(2)] public required IterationKind Kind { get; init; }
    /// <summary>The iteration's recorded score.</summary>
    [Id(3)] public decimal? Score { get; init; }
    /// <summary>Whether the side named no iteration and this one was chosen (best full evaluation, else baseline).</summary>
    [Id(4)] public bool Defaulted { get; init; }
}

/// <summary>A two-sided confidence interval.</summary>
[GenerateSerializer, Immutable, Alias("comparisons.ConfidenceInterval")]
public sealed record ConfidenceInterval(
    [property: Id(0)] double Level,
    [property: Id(1)] double Low,
    [property: Id(2)] double High);

/// <summary>
/// Example keys that occur more than once within one iteration. Only the occurrence with the lowest sample index is
/// paired; the others are counted here.
/// </summary>
[GenerateSerializer, Immutable, Alias("comparisons.DuplicateExamples")]
public sealed record DuplicateExamples
{
    public const int MaxListed = 100;

    /// <summary>How many example keys occur more than once.</summary>
    [Id(0)] public int Count { get; init; }
    /// <summary>How many samples were left unpaired because an earlier sample has the same key.</summary>
    [Id(1)] public int ExtraSamples { get; init; }
    /// <summary>The first <see cref="MaxListed"/> such keys in key order.</summary>
    [Id(2)] public IReadOnlyList<string> ExampleKeys { get; init; } = [];
}

/// <summary>
/// Iteration A compared with iteration B, example by example. Samples are paired by example key: the example id, or
/// for a sample without one <c>md5:</c> and the MD5 of its inputs' jsonb text. Means are over the paired examples
/// (score means over the pairs where both samples are scored); deltas are B − A.
/// </summary>
[GenerateSerializer, Immutable, Alias("comparisons.RunComparison")]
public sealed record RunComparison
{
    [Id(0)] public required ComparedIteration A { get; init; }
    [Id(1)] public required ComparedIteration B { get; init; }
    [Id(2)] public int SamplesA { get; init; }
    [Id(3)] public int SamplesB { get; init; }
    [Id(4)] public int Paired { get; init; }
    [Id(5)] public int Improved { get; init; }
    [Id(6)] public int Regressed { get; init; }
    [Id(7)] public int Unchanged { get; init; }
    [Id(8)] public int Unscored { get; init; }
    [Id(9)] public int OnlyA { get; init; }
    [Id(10)] public int OnlyB { get; init; }
    /// <summary>Paired examples over the union of both iterations' example keys (0 when both are empty).</summary>
    [Id(11)] public double Overlap { get; init; }
    /// <summary>Fewer than half of the union's examples are paired: the comparison speaks for few of them.</summary>
    [Id(12)] public bool LowOverlap { get; init; }
    [Id(13)] public double? MeanScoreA { get; init; }
    [Id(14)] public double? MeanScoreB { get; init; }
    [Id(15)] public double? MeanDelta { get; init; }
    /// <summary>95 % paired-t interval of the mean delta; null with fewer than two scored pairs.</summary>
    [Id(16)] public ConfidenceInterval? MeanDeltaCi { get; init; }
    [Id(17)] public int SuccessA { get; init; }
    [Id(18)] public int SuccessB { get; init; }
    /// <summary>Pairs failed in A and successful in B.</summary>
    [Id(19)] public int SuccessGained { get; init; }
    /// <summary>Pairs successful in A and failed in B.</summary>
    [Id(20)] public int SuccessLost { get; init; }
    /// <summary>McNemar's exact two-sided p-value for the success flips (1 when nothing flipped).</summary>
    [Id(21)] public double McnemarP { get; init; }
    [Id(22)] public double? MeanCostUsdA { get; init; }
    [Id(23)] public double? MeanCostUsdB { get; init; }
    [Id(24)] public double? MeanCostUsdDelta { get; init; }
    [Id(25)] public double? MeanTokensA { get; init; }
    [Id(26)] public double? MeanTokensB { get; init; }
    [Id(27)] public double? MeanTokensDelta { get; init; }
    /// <summary>Over the pairs where both samples have a latency.</summary>
    [Id(28)] public double? MeanLatencyMsA { get; init; }
    [Id(29)] public double? MeanLatencyMsB { get; init; }
    [Id(30)] public double? MeanLatencyMsDelta { get; init; }
    [Id(31)] public required DuplicateExamples DuplicatesA { get; init; }
    [Id(32)] public required DuplicateExamples DuplicatesB { get; init; }
}

/// <summary>One side's sample of an example pair. JSON documents as raw JSON text.</summary>
[GenerateSerializer, Immutable, Alias("comparisons.PairedSample")]
public sealed record PairedSample
{
    [Id(0)] public required int SampleIndex { get; init; }
    [Id(1)] public decimal? Score { get; init; }
    [Id(2)] public bool Success { get; init; }
    [Id(3)] public string? PredictionJson { get; init; }
    [Id(4)] public string? Error { get; init; }
    [Id(5)] public double? LatencyMs { get; init; }
    [Id(6)] public int PromptTokens { get; init; }
    [Id(7)] public int CompletionTokens { get; init; }
    [Id(8)] public decimal CostUsd { get; init; }
    [Id(9)] public string? TraceId { get; init; }
    [Id(10)] public string? SpanId { get; init; }
}

/// <summary>One example of a comparison: its key, its bucket, and its sample in A and in B (null on the side it is missing from).</summary>
[GenerateSerializer, Immutable, Alias("comparisons.ExamplePair")]
public sealed record ExamplePair
{
    [Id(0)] public required string ExampleKey { get; init; }
    [Id(1)] public string? ExampleId { get; init; }
    [Id(2)] public required ComparisonBucket Bucket { get; init; }
    /// <summary>The inputs and expected output as A recorded them (B's when the example is only in B).</summary>
    [Id(3)] public string? InputsJson { get; init; }
    [Id(4)] public string? ExpectedJson { get; init; }
    [Id(5)] public PairedSample? A { get; init; }
    [Id(6)] public PairedSample? B { get; init; }
}

/// <summary>A page of pairs, the iterations they compare, and, when more follow, the example key to continue after.</summary>
[GenerateSerializer, Immutable, Alias("comparisons.ExamplePairPage")]
public sealed record ExamplePairPage(
    [property: Id(0)] ComparedIteration A,
    [property: Id(1)] ComparedIteration B,
    [property: Id(2)] IReadOnlyList<ExamplePair> Items,
    [property: Id(3)] string? NextKey);
