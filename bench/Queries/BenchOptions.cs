using System.Globalization;

namespace OptimizationRuns.Bench.Queries;

/// <summary>The query benchmark's command line.</summary>
public sealed class BenchOptions
{
    public const string Usage = """
        Usage: OptimizationRuns.Bench.Queries [options]

        Loads a data set into a freshly migrated database (projects and API keys through the gateway's admin API,
        rows by binary COPY as the schema owner), then times every read pattern of the REST contract through the
        gateway, and the same reads one layer down at a time: an Orleans client calling the grains, the silo's
        own data classes in-process (service role, row-level security), and plain SQL as the owner. The last line
        printed is one JSON object. Needs ConnectionStrings__PostgresOwner, ConnectionStrings__Postgres,
        OPTRUNS_ADMIN_KEY, a silo and a gateway (bench/queries.sh provides all of them).

          --scale F             data size: F × (10,000 runs, 100,000 iterations, 1,000,000 samples) (default 1.0)
          --projects N          projects the runs are spread over (default 5)
          --requests N          measured requests per pattern and layer, sequential, one client (default 300)
          --warmup N            unmeasured requests per pattern and layer first (default 400): the runtimes' tiered
                                JIT keeps recompiling hot code for the first ~30 s of load (with 100, the hop
                                at p50 measured 0.4-0.8 ms more, and the CPU per request 20-50 % more)
          --rounds N            the measured requests come in N rounds; every round visits every pattern and
                                layer in turn, so load from elsewhere on the machine hits all of them alike (default 5)
          --concurrency N       then a throughput pass through the gateway with N concurrent clients (default 8; 0: none)
          --concurrent-requests N  requests per pattern in that pass (default 800)
          --refresh-reads N     then the analytics refresh: N reads per pattern through the gateway while
                                refresh_run_analytics() runs back to back, and N with no refresh, in --rounds
                                interleaved rounds; the refreshes' durations (default 50; 0: skip)
          --gateway URL         the gateway as shipped (default http://127.0.0.1:8480)
          --quiet-gateway URL   a second gateway with Logging__LogLevel__Default=Warning (optional)
          --orleans-port N      the silo's gateway port, for the grain layer (default 30400; 0: skip that layer)
          --cluster-id ID       (default optruns)
          --service-id ID       (default optruns)
          --seed N              the data generator's seed (default 20261126)
          --skip-load           the database already holds a data set from an earlier --keep-database run
          --result-file PATH    also write the final JSON line there
          -h, --help            this text
        """;

    public double Scale { get; private set; } = 1.0;
    public int Projects { get; private set; } = 5;
    public int Requests { get; private set; } = 300;
    public int Warmup { get; private set; } = 400;
    public int Rounds { get; private set; } = 5;
    public int Concurrency { get; private set; } = 8;
    public int ConcurrentRequests { get; private set; } = 800;
    public int RefreshReads { get; private set; } = 50;
    public Uri Gateway { get; private set; } = new("http://127.0.0.1:8480");
    public Uri? QuietGateway { get; private set; }
    public int OrleansPort { get; private set; } = 30400;
    public string ClusterId { get; private set; } = "optruns";
    public string ServiceId { get; private set; } = "optruns";
    public int Seed { get; private set; } = 20_261_126;
    public bool SkipLoad { get; private set; }
    public string? ResultFile { get; private set; }
    public bool Help { get; private set; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with a readable message.</summary>
    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            int Int(int min) => int.TryParse(Value(), CultureInfo.InvariantCulture, out var v) && v >= min
                ? v : throw new ArgumentException($"{name} needs an integer ≥ {min}.");
            Uri Url() => Uri.TryCreate(Value(), UriKind.Absolute, out var u) ? u : throw new ArgumentException($"{name} needs a URL.");
            switch (name)
            {
                case "-h" or "--help": o.Help = true; break;
                case "--scale":
                    o.Scale = double.TryParse(Value(), CultureInfo.InvariantCulture, out var s) && s is > 0 and <= 10
                        ? s : throw new ArgumentException("--scale needs a number in (0, 10].");
                    break;
                case "--projects": o.Projects = Int(1); break;
                case "--requests": o.Requests = Int(10); break;
                case "--warmup": o.Warmup = Int(0); break;
                case "--rounds": o.Rounds = Int(1); break;
                case "--concurrency": o.Concurrency = Int(0); break;
                case "--concurrent-requests": o.ConcurrentRequests = Int(10); break;
                case "--refresh-reads": o.RefreshReads = Int(0); break;
                case "--gateway": o.Gateway = Url(); break;
                case "--quiet-gateway": o.QuietGateway = Url(); break;
                case "--orleans-port": o.OrleansPort = Int(0); break;
                case "--cluster-id": o.ClusterId = Value(); break;
                case "--service-id": o.ServiceId = Value(); break;
                case "--seed": o.Seed = Int(0); break;
                case "--skip-load": o.SkipLoad = true; break;
                case "--result-file": o.ResultFile = Value(); break;
                default: throw new ArgumentException($"Unknown option {name}.");
            }
        }

        if (o.Rounds > o.Requests || (o.RefreshReads > 0 && o.Rounds > o.RefreshReads))
        {
            throw new ArgumentException("--rounds must not exceed --requests or --refresh-reads.");
        }

        return o;
    }
}
