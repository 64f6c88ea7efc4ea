namespace OptimizationRuns.Grains.Maintenance;

/// <summary>Tunables of retention (configuration section <c>Retention</c>).</summary>
public sealed class RetentionOptions
{
    /// <summary>
    /// Where expired runs are exported before they are deleted: <c>{directory}/{projectId}/{runId}/</c> with
    /// <c>run.json</c>, <c>iterations.jsonl</c> and <c>samples.jsonl</c>. Unset, nothing is ever purged.
    /// </summary>
    public string? ExportDirectory { get; set; }

    /// <summary>How often a purge pass runs; zero turns the schedule off (passes on demand still run).</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>At most this many runs per pass, so one pass is bounded however much has expired.</summary>
    public int RunsPerPass { get; set; } = 20;

    /// <summary>A pause after each run's delete, so concurrent ingest gets the database between deletes.</summary>
    public TimeSpan PauseBetweenRuns { get; set; } = TimeSpan.FromMilliseconds(100);
}
