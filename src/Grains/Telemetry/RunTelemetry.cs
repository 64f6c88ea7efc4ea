using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OptimizationRuns.Grains.Telemetry;

/// <summary>
/// Our spans and metrics on the write path. Spans carry the run's attributes; the commit span is the
/// parent of the Npgsql command spans, so a trace reads HTTP → grain call → commit → SQL.
/// </summary>
public static class RunTelemetry
{
    /// <summary>The name of our <see cref="ActivitySource"/> and <see cref="Meter"/>.</summary>
    public const string SourceName = "OptimizationRuns";

    public static readonly ActivitySource Source = new(SourceName);

    public static readonly Meter Meter = new(SourceName);

    public static readonly Counter<long> SamplesCommitted =
        Meter.CreateCounter<long>("optruns.samples.committed", "{sample}", "Samples committed to PostgreSQL");

    public static readonly Counter<long> SampleDuplicates =
        Meter.CreateCounter<long>("optruns.samples.duplicates", "{sample}", "Samples received again and not stored twice");

    public static readonly Counter<long> IterationsCommitted =
        Meter.CreateCounter<long>("optruns.iterations.committed", "{iteration}", "Iteration records committed");

    public static readonly Histogram<double> CommitDuration =
        Meter.CreateHistogram<double>("optruns.commit.duration", "ms", "Time of one group-commit transaction");

    public static readonly Histogram<double> CommitWait =
        Meter.CreateHistogram<double>("optruns.commit.wait", "ms", "Time a write waited in the queue before its commit began");

    public static readonly Histogram<long> CommitSamples =
        Meter.CreateHistogram<long>("optruns.commit.samples", "{sample}", "Samples per group commit");

    public static readonly UpDownCounter<long> BufferedSamples =
        Meter.CreateUpDownCounter<long>("optruns.samples.buffered", "{sample}", "Samples accepted and waiting for their commit");

    public static readonly Counter<long> OverloadRefusals =
        Meter.CreateCounter<long>("optruns.overload.refusals", "{call}", "Writes refused because a run's buffer was full");

    public static readonly UpDownCounter<long> ActiveRuns =
        Meter.CreateUpDownCounter<long>("optruns.runs.active", "{grain}", "Run grains active in this silo");

    public static readonly UpDownCounter<long> RunsByStatus =
        Meter.CreateUpDownCounter<long>("optruns.runs.by_status", "{run}", "Runs held by this silo's active grains, by status");

    public static readonly Counter<long> StatusChanges =
        Meter.CreateCounter<long>("optruns.runs.status_changes", "{change}", "Status changes of runs, by the status entered");

    /// <summary>The tag of <see cref="RunsByStatus"/> and <see cref="StatusChanges"/>: the status's API name.</summary>
    public const string StatusTag = "status";
    public static readonly Counter<long> ProgressReports =
        Meter.CreateCounter<long>("optruns.progress.reports", "{report}", "Progress reports and heartbeats accepted");

    public static readonly Counter<long> ProgressWrites =
        Meter.CreateCounter<long>("optruns.progress.writes", "{row}", "Run rows written only to store coalesced progress (many runs a transaction)");

    public const string ProjectIdTag = "optruns.project_id";
    public const string RunIdTag = "optruns.run_id";
    public const string IterationTag = "optruns.iteration";
    public const string BatchSizeTag = "optruns.batch.size";
    public const string InsertedTag = "optruns.batch.inserted";
    public const string DuplicatesTag = "optruns.batch.duplicates";
    public const string CommitSamplesTag = "optruns.commit.samples";
    public const string CommitWritesTag = "optruns.commit.writes";
    public const string CommitWaitTag = "optruns.commit.wait_ms";
    public const string ProgressRowsTag = "optruns.progress.rows";
}
