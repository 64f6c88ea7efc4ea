namespace OptimizationRuns.Grains.Errors;

/// <summary>
/// The database cannot be reached or is shutting down, overloaded or timing out: nothing was written, and the
/// same request may succeed after <see cref="RetryAfter"/>. Every grain turns database unavailability into this
/// (a driver exception never crosses the grain boundary); the gateway answers 503 with <c>Retry-After</c>.
/// </summary>
[GenerateSerializer, Alias("errors.StorageUnavailableException")]
public sealed class StorageUnavailableException(TimeSpan retryAfter, string message) : Exception(message)
{
    /// <summary>How long the caller should wait before trying again.</summary>
    [Id(0)] public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The database refused a write for a reason that will not change on a retry (a value it cannot store, a
/// constraint): that write stored nothing; writes queued beside it that did not cause it were committed on their
/// own. The gateway answers 422 naming the cause.
/// </summary>
[GenerateSerializer, Alias("errors.WriteRejectedException")]
public sealed class WriteRejectedException(string message, string? constraint = null) : Exception(message)
{
    /// <summary>The database constraint or column the write broke, when the database names one.</summary>
    [Id(0)] public string? Constraint { get; } = constraint;
}
