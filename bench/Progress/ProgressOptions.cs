using System.Globalization;

namespace OptimizationRuns.Bench.Progress;

/// <summary>The progress load generator's command line.</summary>
public sealed class ProgressOptions
{
    public const string Usage = """
        Usage: OptimizationRuns.Bench.Progress [options]

        Plays many optimizer workers reporting progress and heartbeats through the REST gateway at --http-url, with
        a Server-Sent Events watcher on every run, in three paced phases: samples alone, progress alone, then both.
        Needs ConnectionStrings__PostgresOwner (to read pg_stat counters) and the admin key in OPTRUNS_ADMIN_KEY.

          --runs N                 running runs (default 1000)
          --workers-per-run N      workers reporting per run (default 8)
          --interval S             seconds between one worker's reports (default 1)
          --heartbeat-share F      share of workers sending bare heartbeats ({}); the others send phase, current
                                   iteration and a new message every time (default 0.5)
          --sample-runs N          runs that also receive sample batches (default 20)
          --samples-per-s N        samples offered per second in the sample stream (default 2000)
          --batch N                samples per batch (default 50)
          --seconds S              length of each measured phase (default 30)
          --warmup S               an unmeasured mixed phase first (default 5)
          --connections N          HTTP connections for the writes (default 256)
          --http-url URL           the gateway (default http://127.0.0.1:8080)
          --silo-pid N / --gateway-pid N   the processes whose CPU time is reported (Linux /proc)
          --result-file PATH       write the final JSON line there instead of to standard output
          -h, --help               this text
        """;

    public int Runs { get; private set; } = 1000;
    public int WorkersPerRun { get; private set; } = 8;
    public double IntervalSeconds { get; private set; } = 1;
    public double HeartbeatShare { get; private set; } = 0.5;
    public int SampleRuns { get; private set; } = 20;
    public double SamplesPerSecond { get; private set; } = 2000;
    public int Batch { get; private set; } = 50;
    public double Seconds { get; private set; } = 30;
    public double WarmupSeconds { get; private set; } = 5;
    public int Connections { get; private set; } = 256;
    public string HttpUrl { get; private set; } = "http://127.0.0.1:8080";
    public int? SiloPid { get; private set; }
    public int? GatewayPid { get; private set; }
    public string? ResultFile { get; private set; }
    public bool Help { get; private set; }

    /// <summary>Progress reports offered per second by all workers.</summary>
    public double OfferedUpdatesPerSecond => Runs * WorkersPerRun / IntervalSeconds;

    public static ProgressOptions Parse(string[] args)
    {
        var o = new ProgressOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double Number() => double.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--runs": o.Runs = Int(); break;
                case "--workers-per-run": o.WorkersPerRun = Int(); break;
                case "--interval": o.IntervalSeconds = Number(); break;
                case "--heartbeat-share": o.HeartbeatShare = Number(); break;
                case "--sample-runs": o.SampleRuns = Int(); break;
                case "--samples-per-s": o.SamplesPerSecond = Number(); break;
                case "--batch": o.Batch = Int(); break;
                case "--seconds": o.Seconds = Number(); break;
                case "--warmup": o.WarmupSeconds = Number(); break;
                case "--connections": o.Connections = Int(); break;
                case "--http-url": o.HttpUrl = Next(); break;
                case "--silo-pid": o.SiloPid = Int(); break;
                case "--gateway-pid": o.GatewayPid = Int(); break;
                case "--result-file": o.ResultFile = Next(); break;
                case "-h" or "--help": o.Help = true; break;
                default: throw new ArgumentException($"unknown option: {args[i]}");
            }
        }

        if (o.Runs < 1 || o.WorkersPerRun < 1 || o.IntervalSeconds <= 0 || o.Seconds <= 0 || o.SampleRuns > o.Runs || o.Batch is < 1 or > 5000)
        {
            throw new ArgumentException("runs and workers must be positive, interval and seconds above 0, sample runs at most the runs, batch 1..5000");
        }

        return o;
    }
}
