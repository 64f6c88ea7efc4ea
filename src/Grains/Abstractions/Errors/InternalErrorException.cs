namespace OptimizationRuns.Grains.Errors;

/// <summary>
/// A failure inside a grain that no caller can act on (a defect, or a dependency failing in a way nobody
/// classified), whose own exception type could not cross the grain boundary. It carries that type's name and
/// message so the gateway's 500 and its log still say what went wrong, instead of a serializer error.
/// </summary>
[GenerateSerializer, Alias("errors.InternalErrorException")]
public sealed class InternalErrorException(string errorType, string message) : Exception($"{errorType}: {message}")
{
    /// <summary>The full name of the exception type the grain threw.</summary>
    [Id(0)] public string ErrorType { get; } = errorType;
}
