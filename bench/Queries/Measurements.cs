using System.Diagnostics;

namespace OptimizationRuns.Bench.Queries;

/// <summary>Latencies (ms) and CPU seconds per (pattern, layer), and the percentiles of them.</summary>
public sealed class Measurements
{
    private readonly Dictionary<(string Pattern, string Layer), List<double>> _latencies = [];
    private readonly Dictionary<(string Pattern, string Layer), Dictionary<string, double>> _cpu = [];

    public void Add(string pattern, string layer, double ms)
    {
        if (!_latencies.TryGetValue((pattern, layer), out var list))
        {
            _latencies[(pattern, layer)] = list = [];
        }

        list.Add(ms);
    }

    public void AddCpu(string pattern, string layer, Dictionary<string, double> before, Dictionary<string, double> after, string? gateway)
    {
        if (!_cpu.TryGetValue((pattern, layer), out var parts))
        {
            _cpu[(pattern, layer)] = parts = [];
        }

        foreach (var part in CpuMeter.Parts)
        {
            var source = part == "gateway" ? gateway : part;
            if (source is null || !before.TryGetValue(source, out var b) || !after.TryGetValue(source, out var a))
            {
                continue;
            }

            parts[part] = parts.GetValueOrDefault(part) + (a - b);
        }
    }

    public Stats? Get(string pattern, string layer) =>
        _latencies.TryGetValue((pattern, layer), out var list) && list.Count > 0 ? Stats.Of(list) : null;

    /// <summary>CPU milliseconds per request of each part, for the requests of (pattern, layer).</summary>
    public Dictionary<string, double>? CpuPerRequest(string pattern, string layer) =>
        _cpu.TryGetValue((pattern, layer), out var parts) && _latencies.TryGetValue((pattern, layer), out var list) && list.Count > 0
            ? parts.ToDictionary(p => p.Key, p => p.Value * 1000 / list.Count)
            : null;

    public static double Ms(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
}

/// <summary>Percentiles (nearest rank) of one set of latencies, in ms.</summary>
public sealed record Stats(int Count, double P50, double P95, double P99, double Max, double Mean)
{
    public static Stats Of(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Stats(sorted.Length, Rank(0.50), Rank(0.95), Rank(0.99), sorted[^1], sorted.Average());
    }
}
