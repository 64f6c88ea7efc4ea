using System.Diagnostics;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>CPU time spent by each part during a round, from /proc (Linux), so a round can say where its time went.</summary>
/// <remarks>
/// Parts: this load generator, the silo (its pid from --silo-pid), the PostgreSQL backends serving the
/// benchmark's database, PostgreSQL's shared background processes (WAL writer, checkpointer, …), and the
/// rest of the machine (whatever else runs on it: the noise).
/// </remarks>
public sealed class CpuMeter(int? siloPid, string database)
{
    private static readonly double TicksPerSecond = 100;

    /// <summary>CPU seconds per part since the machine started (the parts' processes since they started).</summary>
    public CpuSample Sample()
    {
        double silo = 0, backends = 0, background = 0;
        if (siloPid is { } pid)
        {
            silo = ProcessSeconds(pid);
        }

        if (OperatingSystem.IsLinux())
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var p))
                {
                    continue;
                }

                string cmdline;
                try
                {
                    cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                }
                catch (IOException)
                {
                    continue;
                }
                catch (UnauthorizedAccessException)
                {
                    continue;
                }

                if (!cmdline.StartsWith("postgres: ", StringComparison.Ordinal))
                {
                    continue;
                }

                if (cmdline.Contains($" {database} ", StringComparison.Ordinal))
                {
                    backends += ProcessSeconds(p);
                }
                else if (cmdline.Contains("walwriter") || cmdline.Contains("checkpointer") || cmdline.Contains("background writer")
                         || cmdline.Contains("autovacuum") || cmdline.Contains("walsender"))
                {
                    background += ProcessSeconds(p);
                }
            }
        }

        var (busy, total) = MachineSeconds();
        return new CpuSample(Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, silo, backends, background, busy, total);
    }

    /// <summary>CPU seconds (user + system) the process has used; 0 when it is unknown or gone.</summary>
    public static double ProcessSeconds(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }

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

    // Busy and total CPU seconds of all cores, from the first line of /proc/stat.
    private static (double Busy, double Total) MachineSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0);
        }

        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..].Select(long.Parse).ToArray();
        var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
        var total = fields.Take(8).Sum();
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }
}

/// <summary>Cumulative CPU seconds per part at one moment.</summary>
public sealed record CpuSample(double Client, double Silo, double Backends, double Background, double MachineBusy, double MachineTotal)
{
    /// <summary>What each part spent between <paramref name="before"/> and this sample.</summary>
    public CpuUse Since(CpuSample before)
    {
        var client = Client - before.Client;
        var silo = Silo - before.Silo;
        var backends = Backends - before.Backends;
        var background = Background - before.Background;
        var busy = MachineBusy - before.MachineBusy;
        return new CpuUse(client, silo, backends, background, Math.Max(0, busy - client - silo - backends - background),
            busy, MachineTotal - before.MachineTotal);
    }
}

/// <summary>CPU seconds per part over an interval; <see cref="Other"/> is the rest of the machine.</summary>
public sealed record CpuUse(double Client, double Silo, double Backends, double Background, double Other, double Busy, double Total)
{
    /// <summary>One line: milliseconds of CPU per 1,000 rows for each part, and how busy the machine was.</summary>
    public string Describe(long rows)
    {
        double PerK(double seconds) => rows == 0 ? 0 : seconds * 1000 / (rows / 1000.0);
        return $"cpu ms per 1k rows: client {PerK(Client):0} · silo {PerK(Silo):0} · pg backends {PerK(Backends):0} · "
            + $"pg background {PerK(Background):0} · other processes {PerK(Other):0}; machine busy {(Total > 0 ? Busy / Total : 0):P0}";
    }
}
