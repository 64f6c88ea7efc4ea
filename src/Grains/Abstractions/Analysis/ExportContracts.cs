namespace OptimizationRuns.Grains.Analysis;

/// <summary>
/// One sample as an export carries it: the columns of a samples page, with every text and JSON value as the UTF-8
/// bytes PostgreSQL sent (JSON as jsonb writes it, the text the REST answers carry too), so neither the silo nor the
/// gateway decodes or re-encodes a million rows' text: it is copied into the message and from it into the response.
/// </summary>
/// <remarks>No reference tracking: rows are never shared within a page, and tracking thousands of them costs every message.</remarks>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("analysis.SampleExportRow")]
public sealed record SampleExportRow
{
    [Id(0)] public Guid RunId { get; init; }
    [Id(1)] public int Iteration { get; init; }
    [Id(2)] public int SampleIndex { get; init; }
    [Id(3)] public byte[]? ExampleId { get; init; }
    [Id(4)] public byte[]? Inputs { get; init; }
    [Id(5)] public byte[]? Expected { get; init; }
    [Id(6)] public byte[]? Prediction { get; init; }
    [Id(7)] public decimal? Score { get; init; }
    [Id(8)] public bool Success { get; init; }
    [Id(9)] public byte[]? Error { get; init; }
    [Id(10)] public double? LatencyMs { get; init; }
    [Id(11)] public int PromptTokens { get; init; }
    [Id(12)] public int CompletionTokens { get; init; }
    [Id(13)] public decimal CostUsd { get; init; }
    [Id(14)] public byte[]? TraceId { get; init; }
    [Id(15)] public byte[]? SpanId { get; init; }
    [Id(16)] public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The bytes of its text and JSON values, for sizing pages.</summary>
    public long TextBytes => (ExampleId?.Length ?? 0) + (Inputs?.Length ?? 0) + (Expected?.Length ?? 0)
        + (Prediction?.Length ?? 0) + (Error?.Length ?? 0) + (TraceId?.Length ?? 0) + (SpanId?.Length ?? 0);
}

/// <summary>
/// One candidate as an export carries it: the predictor and kind it belongs to, and the candidate as
/// <c>GET …/candidates</c> answers it (content when recorded, statistics from the run's iterations). The choice's
/// importance belongs to the predictor and kind as a whole, not to a row: <c>GET …/candidates</c> answers it.
/// </summary>
[GenerateSerializer, Immutable, Alias("analysis.CandidateExportRow")]
public sealed record CandidateExportRow(
    [property: Id(0)] string Predictor,
    [property: Id(1)] Runs.CandidateKind Kind,
    [property: Id(2)] Candidates.CandidateView Candidate);
