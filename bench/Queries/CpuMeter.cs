using System.Diagnostics;

namespace OptimizationRuns.Bench.Queries;

/// <summary>
/// CPU seconds of each part, from /proc (Linux): the gateway(s), the silo, the PostgreSQL backends serving the
/// benchmark's database, and this process. Read around each block of requests, so a pattern can say where its
/// CPU went. Other processes on the machine are not counted (they are the noise).
/// </summary>
public sealed class CpuMeter(IReadOnlyDictionary<string, int> pids, string database)
{
    private const double TicksPerSecond = 100;

    public static readonly string[] Parts = ["gateway", "silo", "postgres", "bench"];

    public bool Enabled => OperatingSystem.IsLinux();

    /// <summary>CPU seconds per part so far. The gateway part is the gateway the layer talks to, if any.</summary>
    /// <remarks>
    /// This process's own time is read last when <paramref name="opening"/> (before a block) and first otherwise, so
    /// the cost of scanning /proc is not counted as the client's.
    /// </remarks>
    public Dictionary<string, double> Sample(bool opening)
    {
        var result = new Dictionary<string, double>();
        if (!Enabled)
        {
            return result;
        }

        if (!opening)
        {
            result["bench"] = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        }

        foreach (var (name, pid) in pids)
        {
            result[name] = ProcessSeconds(pid);
        }

        double backends = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var p))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.StartsWith("postgres: ", StringComparison.Ordinal) && cmdline.Contains($" {database} ", StringComparison.Ordinal))
                {
                    backends += ProcessSeconds(p);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        result["postgres"] = backends;
        if (opening)
        {
            result["bench"] = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        }

        return result;
    }

    private static double ProcessSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }
}
