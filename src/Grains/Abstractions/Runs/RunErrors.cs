namespace OptimizationRuns.Grains.Runs;

/// <summary>No such run in the caller's project (another project's run is not found either).</summary>
[GenerateSerializer, Alias("runs.RunNotFoundException")]
public sealed class RunNotFoundException(Guid runId) : Exception($"Run {runId} was not found.")
{
    [Id(0)] public Guid RunId { get; } = runId;
}

/// <summary>The request contradicts the run's state: an invalid transition, a write after the end, a changed result.</summary>
[GenerateSerializer, Alias("runs.RunConflictException")]
public sealed class RunConflictException(string message) : Exception(message);

/// <summary>Values that break the domain's rules; nothing was written.</summary>
[GenerateSerializer, Alias("runs.RunValidationException")]
public sealed class RunValidationException(IReadOnlyDictionary<string, string[]> errors)
    : Exception("Invalid values: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")))
{
    /// <summary>Messages per field, keyed by the field's path in the request (e.g. <c>samples[3].score</c>).</summary>
    [Id(0)] public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>The run's write buffer is full (the database is slower than its writers): retry after a pause.</summary>
[GenerateSerializer, Alias("runs.RunOverloadedException")]
public sealed class RunOverloadedException(TimeSpan retryAfter)
    : Exception($"The run is overloaded; retry after {retryAfter.TotalSeconds:0.#} s.")
{
    [Id(0)] public TimeSpan RetryAfter { get; } = retryAfter;
}
