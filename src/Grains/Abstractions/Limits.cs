namespace OptimizationRuns.Grains;

/// <summary>
/// Every limit of the contract, defined once: the gateway documents and checks them, the grains enforce them.
/// </summary>
public static class Limits
{
    /// <summary>Samples in one batch.</summary>
    public const int MaxSamplesPerBatch = 5_000;

    /// <summary>Tags on a run, and tags in one list filter.</summary>
    public const int MaxTags = 50;

    /// <summary>Characters of one tag.</summary>
    public const int MaxTagLength = 100;

    /// <summary>
    /// Bytes of a run's tags together, as UTF-8: the list's order indexes carry them (migration 0017), and one index
    /// entry holds at most 2,704 bytes, the run's keys and the array's own overhead included.
    /// </summary>
    public const int MaxTagBytes = 2_000;

    /// <summary>Characters of a name (run, program, data set, metric, model, example id).</summary>
    public const int MaxNameLength = 200;

    /// <summary>Characters of an error message.</summary>
    public const int MaxErrorLength = 10_000;

    /// <summary>Runs in one page of the run list, and its default.</summary>
    public const int MaxRunPage = 100, DefaultRunPage = 20;

    /// <summary>Samples in one page, and its default.</summary>
    public const int MaxSamplePage = 1_000, DefaultSamplePage = 100;

    /// <summary>Runs on the leaderboard, and its default.</summary>
    public const int MaxLeaderboard = 100, DefaultLeaderboard = 10;
}
