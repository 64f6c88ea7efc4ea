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

    /// <summary>
    /// The purge's pace, in samples exported and deleted per second on average (0: as fast as it goes). Unpaced, a purge
    /// of 1 M samples ran at ~33,000 samples/s and tripled concurrent ingest's p99 (bench/purge.sh); a retention purge
    /// has hours, ingest has milliseconds.
    /// </summary>
    public int SamplesPerSecond { get; set; } = 5_000;
}
