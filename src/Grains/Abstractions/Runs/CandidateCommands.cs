namespace OptimizationRuns.Grains.Runs;

/// <summary>What a candidate is: a proposed instruction text, or a set of few-shot demos.</summary>
public enum CandidateKind
{
    /// <summary>A proposed instruction for the predictor.</summary>
    Instruction,
    /// <summary>A bootstrapped set of few-shot demos for the predictor.</summary>
    Demos,
}

/// <summary>
/// One candidate a run proposed for a predictor, identified by (predictor, kind, index) within the run: the index an
/// iteration's params name it by. An instruction has <see cref="Text"/>, a demo set <see cref="DemosJson"/> (a JSON array).
/// </summary>
[GenerateSerializer, Immutable, Alias("runs.CandidateRecord")]
public sealed record CandidateRecord(
    [property: Id(0)] string Predictor,
    [property: Id(1)] CandidateKind Kind,
    [property: Id(2)] int Index,
    [property: Id(3)] string? Text = null,
    [property: Id(4)] string? DemosJson = null);

/// <summary>What recording candidates did: every candidate accepted, some inserted, the rest already stored as they are.</summary>
[GenerateSerializer, Immutable, Alias("runs.CandidateBatchResult")]
public sealed record CandidateBatchResult(
    [property: Id(0)] int Accepted,
    [property: Id(1)] int Inserted,
    [property: Id(2)] int Duplicates);
