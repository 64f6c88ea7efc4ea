using System.Diagnostics;
using System.Text.Json.Nodes;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>
/// What each part spent during a round: CPU time from /proc (Linux), and the WAL the server wrote and the transactions
/// the benchmark's database committed, so a round can say where its time went and what it cost the database.
/// </summary>
/// <remarks>
/// Parts: this load generator, each silo (their pids from --silo-pid), the HTTP gateway (--gateway-pid), the
/// PostgreSQL backends serving the benchmark's database (every silo's connections), PostgreSQL's shared background
/// processes (WAL writer, checkpointer, …), and the rest of the machine (whatever else runs on it: the noise).
/// </remarks>
public sealed class CpuMeter(IReadOnlyList<int> siloPids, int? gatewayPid, string database, Func<CancellationToken, Task<DatabaseCounters>>? databaseCounters = null)
{
    private static readonly double TicksPerSecond = 100;

    /// <summary>CPU seconds per part since the machine started (the parts' processes since they started), and the database's counters.</summary>
    public async Task<CpuSample> SampleAsync(CancellationToken cancellationToken)
    {
        var counters = databaseCounters is null ? new DatabaseCounters(0, 0) : await databaseCounters(cancellationToken);
        var silos = siloPids.Select(p => ProcessSeconds(p)).ToArray();
        var gateway = gatewayPid is { } g ? ProcessSeconds(g) : 0;
        var backends = new Dictionary<int, double>();
        var background = new Dictionary<int, double>();
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
                    backends[p] = ProcessSeconds(p);
                }
                else if (cmdline.Contains("walwriter") || cmdline.Contains("checkpointer") || cmdline.Contains("background writer")
                         || cmdline.Contains("autovacuum") || cmdline.Contains("walsender"))
                {
                    background[p] = ProcessSeconds(p);
                }
            }
        }

        var (busy, total) = MachineSeconds();
        return new CpuSample(Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, silos, gateway, backends, background, busy, total,
            counters.WalBytes, counters.Commits);
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

/// <summary>The server's WAL position in bytes and the transactions the benchmark's database has committed.</summary>
public sealed record DatabaseCounters(long WalBytes, long Commits);

/// <summary>
/// Cumulative CPU seconds per part at one moment, the server's WAL position and the database's commits. PostgreSQL's
/// processes are kept per pid: they come and go (an autovacuum worker, a new connection), and a process that has
/// exited must not subtract its seconds from the next interval.
/// </summary>
public sealed record CpuSample(
    double Client, double[] Silos, double Gateway, IReadOnlyDictionary<int, double> Backends, IReadOnlyDictionary<int, double> Background,
    double MachineBusy, double MachineTotal, long WalBytes, long Commits)
{
    /// <summary>What each part spent between <paramref name="before"/> and this sample.</summary>
    public CpuUse Since(CpuSample before)
    {
        var client = Client - before.Client;
        var silos = Silos.Zip(before.Silos, (now, then) => now - then).ToArray();
        var gateway = Gateway - before.Gateway;
        // A process that started within the interval counts whole; one that exited within it is lost (an undercount).
        static double Grown(IReadOnlyDictionary<int, double> now, IReadOnlyDictionary<int, double> then) =>
            now.Sum(p => p.Value - then.GetValueOrDefault(p.Key));
        var backends = Grown(Backends, before.Backends);
        var background = Grown(Background, before.Background);
        var busy = MachineBusy - before.MachineBusy;
        var measured = client + silos.Sum() + gateway + backends + background;
        return new CpuUse(client, silos, gateway, backends, background, Math.Max(0, busy - measured),
            busy, MachineTotal - before.MachineTotal, WalBytes - before.WalBytes, Commits - before.Commits);
    }
}

/// <summary>CPU seconds per part over an interval (<see cref="Other"/> is the rest of the machine), the WAL written and the commits.</summary>
public sealed record CpuUse(
    double Client, double[] Silos, double Gateway, double Backends, double Background, double Other, double Busy, double Total,
    long WalBytes, long Commits)
{
    /// <summary>All silos together.</summary>
    public double Silo => Silos.Sum();

    /// <summary>One line: milliseconds of CPU per 1,000 rows for each part, how busy the machine was, WAL bytes per row.</summary>
    public string Describe(long rows)
    {
        double PerK(double seconds) => rows == 0 ? 0 : seconds * 1000 / (rows / 1000.0);
        var perSilo = Silos.Length > 1 ? $" ({string.Join(" + ", Silos.Select(s => PerK(s).ToString("0")))})" : "";
        var gateway = Gateway > 0 ? $"gateway {PerK(Gateway):0} · " : "";
        return $"cpu ms per 1k rows: client {PerK(Client):0} · {gateway}silo {PerK(Silo):0}{perSilo} · pg backends {PerK(Backends):0} · "
            + $"pg background {PerK(Background):0} · other processes {PerK(Other):0}; machine busy {BusyShare:P0}; "
            + $"WAL {(rows == 0 ? 0 : WalBytes / (double)rows):0} bytes per row; {Commits:N0} commits ({(Commits == 0 ? 0 : rows / (double)Commits):0} rows per commit)";
    }

    /// <summary>The share of the machine's CPU time that was busy.</summary>
    public double BusyShare => Total > 0 ? Busy / Total : 0;

    /// <summary>
    /// Milliseconds of CPU per 1,000 rows for each part, WAL bytes per row, how busy the machine was, and the silos' CPU
    /// per second of the round (in a raw round, what idle silos cost).
    /// </summary>
    public JsonObject PerThousand(long rows, double seconds)
    {
        double PerK(double seconds) => rows == 0 ? 0 : Math.Round(seconds * 1000 / (rows / 1000.0), 1);
        return new JsonObject
        {
            ["client"] = PerK(Client),
            ["gateway"] = PerK(Gateway),
            ["silos"] = PerK(Silo),
            ["per_silo"] = new JsonArray(Silos.Select(s => (JsonNode?)PerK(s)).ToArray()),
            ["pg_backends"] = PerK(Backends),
            ["pg_background"] = PerK(Background),
            ["other"] = PerK(Other),
            ["wal_bytes_per_row"] = rows == 0 ? 0 : Math.Round(WalBytes / (double)rows),
            ["machine_busy"] = Math.Round(BusyShare, 3),
            ["silos_ms_per_s"] = seconds > 0 ? Math.Round(Silo * 1000 / seconds, 1) : 0,
            ["commits"] = Commits,
            ["rows_per_commit"] = Commits == 0 ? 0 : Math.Round(rows / (double)Commits, 1),
        };
    }
}
