namespace OptimizationRuns.Grains.Runs;

/// <summary>Where a run is in its life: <c>pending → running ⇄ stalled</c>, then one of the three ends.</summary>
public enum RunStatus
{
    Pending,
    Running,
    /// <summary>No heartbeat for a while: a slow worker, not a dead one; a heartbeat resumes it.</summary>
    Stalled,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>The optimizer that drives a run.</summary>
public enum OptimizerType
{
    Miprov2,
    BootstrapFewshot,
    BootstrapFewshotRandomSearch,
    Copro,
    Gepa,
    Simba,
    Custom,
}

/// <summary>What an iteration evaluated.</summary>
public enum IterationKind
{
    /// <summary>The unoptimized program, fully evaluated.</summary>
    Baseline,
    /// <summary>A trial scored on a random minibatch: a noisy estimate, never the run's best score.</summary>
    Minibatch,
    /// <summary>A full evaluation of the best candidate so far.</summary>
    Full,
}

/// <summary>What a live event reports.</summary>
public enum RunEventKind
{
    Progress,
    Iteration,
    BestScore,
    Status,
}

/// <summary>The lower-case names of the enums, as the database and the REST contract spell them.</summary>
public static class DomainNames
{
    /// <summary><c>BootstrapFewshotRandomSearch</c> → <c>bootstrap_fewshot_random_search</c>.</summary>
    public static string ToName<T>(this T value) where T : struct, Enum =>
        Names<T>.ByValue.TryGetValue(value, out var name) ? name : Names<T>.Convert(value);

    /// <summary>The enum member a lower-case name stands for, if any.</summary>
    public static bool TryParseName<T>(string? name, out T value) where T : struct, Enum
    {
        if (name is not null && Names<T>.ByName.TryGetValue(name, out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>The enum member for a name the database holds (which its CHECK constraints keep valid).</summary>
    public static T ParseName<T>(string name) where T : struct, Enum =>
        TryParseName<T>(name, out var value) ? value : throw new FormatException($"Unknown {typeof(T).Name} '{name}'.");

    /// <summary>Every name of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => Names<T>.InOrder;

    /// <summary>Whether the run has ended and accepts no more writes.</summary>
    public static bool IsEnded(this RunStatus status) =>
        status is RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled;

    // Built once per enum: names are looked up on every write and every row read.
    private static class Names<T> where T : struct, Enum
    {
        public static readonly Dictionary<T, string> ByValue = Enum.GetValues<T>().ToDictionary(v => v, Convert);
        public static readonly Dictionary<string, T> ByName = ByValue.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
        public static readonly IReadOnlyList<string> InOrder = Enum.GetValues<T>().Select(v => ByValue[v]).ToList();

        public static string Convert(T value) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
    }
}
