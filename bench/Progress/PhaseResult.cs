using System.Text.Json.Nodes;
using OptimizationRuns.Bench.Ingest;

namespace OptimizationRuns.Bench.Progress;

/// <summary>The CPU seconds of every part at one moment: the ingest meter's parts and the gateway.</summary>
public sealed record PhaseCpu(CpuSample Parts, double Gateway)
{
    public PhaseUse Since(PhaseCpu before) => new(Parts.Since(before.Parts), Gateway - before.Gateway);
}

/// <summary>CPU seconds per part over a phase (the ingest meter's "other" still counts the gateway: it is taken out here).</summary>
public sealed record PhaseUse(CpuUse Parts, double Gateway)
{
    public double Other => Math.Max(0, Parts.Other - Gateway);
}

/// <summary>One phase's figures: rates, acknowledgement latency, CPU per part, and the database's writes.</summary>
public sealed record PhaseResult(string Name, PhaseLoad Load, PhaseUse Cpu, DatabaseCounters Written, string LoadAverage)
{
    public long Updates => Load.Progress.Count;

    public double UpdatesPerSecond => Updates / Load.Seconds;

    public double SamplesPerSecond => Load.SamplesAcknowledged / Load.Seconds;

    public double P50 => PhaseLoad.Percentile(Load.Progress, 0.50);

    public double P95 => PhaseLoad.Percentile(Load.Progress, 0.95);

    public double P99 => PhaseLoad.Percentile(Load.Progress, 0.99);

    public double RunWritesPerUpdate => Updates == 0 ? double.NaN : Written.RunUpdates / (double)Updates;

    public double StateWritesPerUpdate => Updates == 0 ? double.NaN : Written.StateUpdates / (double)Updates;

    public double CommitsPerUpdate => Updates == 0 ? double.NaN : Written.Commits / (double)Updates;

    /// <summary>Milliseconds of CPU per 1,000 of <paramref name="count"/> for the gateway, the silo and PostgreSQL.</summary>
    public string CpuPerThousand(long count)
    {
        var (gateway, silo, backends, background, client) = PerThousand(count);
        return $"gateway {gateway:0} · silo {silo:0} · pg backends {backends:0} · pg background {background:0} (load generator {client:0})";
    }

    public string Describe()
    {
        var failures = Load.Failures.IsEmpty ? "none" : string.Join(", ", Load.Failures.Select(f => $"{f.Value} × {(f.Key == 0 ? "no answer" : f.Key.ToString())}"));
        return $"""
            {Name,-9} {Updates,8:N0} reports ({UpdatesPerSecond:N0}/s), {Load.SamplesAcknowledged,8:N0} samples ({SamplesPerSecond:N0}/s) in {Load.Seconds:0.0} s; not 200: {failures}
                      report ack p50 {P50:0.0} p95 {P95:0.0} p99 {P99:0.0} ms from when due, p50 {PhaseLoad.Percentile(Load.ProgressService, 0.50):0.0} p99 {PhaseLoad.Percentile(Load.ProgressService, 0.99):0.0} ms from when sent; sample batch ack p99 {PhaseLoad.Percentile(Load.Samples, 0.99):0.0} ms
                      database: {Written.RunUpdates:N0} run-row updates, {Written.StateUpdates:N0} grain-state updates, {Written.SampleInserts:N0} sample rows, {Written.Commits:N0} transactions
                      cpu s: gateway {Cpu.Gateway:0.0} · silo {Cpu.Parts.Silo:0.0} · pg backends {Cpu.Parts.Backends:0.0} · pg background {Cpu.Parts.Background:0.0} · load generator {Cpu.Parts.Client:0.0} · other processes {Cpu.Other:0.0}; machine busy {(Cpu.Parts.Total > 0 ? Cpu.Parts.Busy / Cpu.Parts.Total : 0):P0}; load {LoadAverage}
            """;
    }

    public JsonObject ToJson()
    {
        var perUpdate = PerThousand(Updates);
        var perSample = PerThousand(Load.SamplesAcknowledged);
        return new JsonObject
        {
            ["updates"] = Updates,
            ["updates_per_s"] = Math.Round(UpdatesPerSecond),
            ["samples"] = Load.SamplesAcknowledged,
            ["samples_per_s"] = Math.Round(SamplesPerSecond),
            ["ack_p50_ms"] = Round(P50),
            ["ack_p95_ms"] = Round(P95),
            ["ack_p99_ms"] = Round(P99),
            ["sent_ack_p50_ms"] = Round(PhaseLoad.Percentile(Load.ProgressService, 0.50)),
            ["sent_ack_p99_ms"] = Round(PhaseLoad.Percentile(Load.ProgressService, 0.99)),
            ["sample_ack_p99_ms"] = Round(PhaseLoad.Percentile(Load.Samples, 0.99)),
            ["failures"] = Load.Failures.Values.Sum(),
            ["run_row_updates"] = Written.RunUpdates,
            ["state_updates"] = Written.StateUpdates,
            ["transactions"] = Written.Commits,
            ["run_writes_per_update"] = Round(RunWritesPerUpdate, 4),
            ["state_writes_per_update"] = Round(StateWritesPerUpdate, 4),
            ["cpu_ms_per_1k_updates"] = Updates == 0 ? null : CpuJson(perUpdate),
            ["cpu_ms_per_1k_samples"] = Load.SamplesAcknowledged == 0 ? null : CpuJson(perSample),
            ["cpu_s"] = CpuJson((Cpu.Gateway, Cpu.Parts.Silo, Cpu.Parts.Backends, Cpu.Parts.Background, Cpu.Parts.Client)),
            ["other_cpu_s"] = Round(Cpu.Other),
            ["load_average"] = LoadAverage,
        };
    }

    // In a mixed phase both kinds share the CPU: these are per-kind figures only in the phases of one kind.
    private (double Gateway, double Silo, double Backends, double Background, double Client) PerThousand(long count)
    {
        double PerK(double seconds) => count == 0 ? double.NaN : seconds * 1000 / (count / 1000.0);
        return (PerK(Cpu.Gateway), PerK(Cpu.Parts.Silo), PerK(Cpu.Parts.Backends), PerK(Cpu.Parts.Background), PerK(Cpu.Parts.Client));
    }

    private static JsonObject CpuJson((double Gateway, double Silo, double Backends, double Background, double Client) cpu) => new()
    {
        ["gateway"] = Round(cpu.Gateway),
        ["silo"] = Round(cpu.Silo),
        ["pg_backends"] = Round(cpu.Backends),
        ["pg_background"] = Round(cpu.Background),
        ["load_generator"] = Round(cpu.Client),
    };

    private static double? Round(double value, int digits = 2) => double.IsNaN(value) || double.IsInfinity(value) ? null : Math.Round(value, digits);
}
