using System.Globalization;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>The load generator's command line.</summary>
public sealed class BenchOptions
{
    public const string Usage = """
        Usage: OptimizationRuns.Bench.Ingest [options]

        Plays optimizer workers against the run grains of a running silo and, in the same process, the raw
        ceiling: the same rows binary-COPYed straight into optimization_samples as the schema owner. Rounds
        alternate raw, grains, raw, grains, ...; the summary reports medians, and the last line printed is one
        JSON object. Needs ConnectionStrings__PostgresOwner (the schema owner) and a silo on --gateway-port.

          --runs N              runs written at once (default 16)
          --workers N           concurrent optimizer workers, spread over the runs (default 64)
          --batch N             samples per RecordSamplesAsync call (default 50)
          --payload-bytes N     approximate bytes of one sample as sent: example id, inputs/expected/prediction
                                JSON, trace ids and numbers (default 490)
          --batches N           batches each worker sends per round (default 100)
          --duration S          instead of --batches: each round lasts S seconds
          --repeat N            measured rounds of each kind (default 3)
          --warmup N            batches per worker in one unmeasured warm-up round of each kind (default 60; 0: none)
          --paced-fraction F    after the rounds, one paced round offering F × the measured grain rate, to read the
                                acknowledgement latency below saturation (default 0.5; 0: none)
          --paced-seconds S     how long the paced round lasts (default 10)
          --iteration-every N   a run records an iteration every N batches of its workers (default 10)
          --via grains|http     how workers write: grain calls through the Orleans client (default), or JSON
                                through the REST gateway at --http-url with a project key made with the
                                admin key in OPTRUNS_ADMIN_KEY
          --http-url URL        the gateway, for --via http (default http://127.0.0.1:8080)
          --gateway-port N      a silo's gateway port (default 30000); repeat it for a cluster of several silos,
                                and the client spreads its calls over their gateways
          --cluster-id ID       (default optruns)
          --service-id ID       (default optruns)
          --silo-pid N          a silo's process id, to report its CPU time per round (Linux); repeat it for each silo
          --gateway-pid N       the HTTP gateway's process id (--via http), to report its CPU time per round
          --result-file PATH    write the final JSON line there instead of to standard output
          -h, --help            this text
        """;

    public int Runs { get; private set; } = 16;
    public int Workers { get; private set; } = 64;
    public int Batch { get; private set; } = 50;
    public int PayloadBytes { get; private set; } = 490;
    public int BatchesPerWorker { get; private set; } = 100;
    public double? DurationSeconds { get; private set; }
    public int Repeat { get; private set; } = 3;
    public int WarmupBatches { get; private set; } = 60;
    public int IterationEvery { get; private set; } = 10;
    public double PacedFraction { get; private set; } = 0.5;
    public double PacedSeconds { get; private set; } = 10;
    /// <summary>The silos' gateway ports: the client reaches the cluster through them.</summary>
    public IReadOnlyList<int> GatewayPorts => _gatewayPorts.Count > 0 ? _gatewayPorts : [30000];
    public string Via { get; private set; } = "grains";
    public string HttpUrl { get; private set; } = "http://127.0.0.1:8080";
    public string ClusterId { get; private set; } = "optruns";
    public string ServiceId { get; private set; } = "optruns";
    public string? ResultFile { get; private set; }
    public IReadOnlyList<int> SiloPids => _siloPids;
    public int? GatewayPid { get; private set; }
    public bool Help { get; private set; }

    private readonly List<int> _gatewayPorts = [];
    private readonly List<int> _siloPids = [];

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
            double Number(double min, double max) =>
                double.TryParse(Value(), CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                    ? v : throw new ArgumentException($"{name} needs a number between {min} and {max}.");
            switch (name)
            {
                case "-h" or "--help": o.Help = true; break;
                case "--runs": o.Runs = Int(1); break;
                case "--workers": o.Workers = Int(1); break;
                case "--batch": o.Batch = Int(1); break;
                case "--payload-bytes": o.PayloadBytes = Int(150); break;
                case "--batches": o.BatchesPerWorker = Int(1); o.DurationSeconds = null; break;
                case "--duration":
                    o.DurationSeconds = double.TryParse(Value(), CultureInfo.InvariantCulture, out var d) && d > 0
                        ? d : throw new ArgumentException("--duration needs a number of seconds > 0.");
                    break;
                case "--repeat": o.Repeat = Int(1); break;
                case "--warmup": o.WarmupBatches = Int(0); break;
                case "--iteration-every": o.IterationEvery = Int(1); break;
                case "--paced-fraction": o.PacedFraction = Number(0, 10); break;
                case "--paced-seconds": o.PacedSeconds = Number(1, 600); break;
                case "--gateway-port": o._gatewayPorts.Add(Int(1)); break;
                case "--via":
                    o.Via = Value() is "grains" or "http" ? args[i] : throw new ArgumentException("--via takes grains or http.");
                    break;
                case "--http-url": o.HttpUrl = Value(); break;
                case "--cluster-id": o.ClusterId = Value(); break;
                case "--service-id": o.ServiceId = Value(); break;
                case "--result-file": o.ResultFile = Value(); break;
                case "--silo-pid": o._siloPids.Add(Int(1)); break;
                case "--gateway-pid": o.GatewayPid = Int(1); break;
                default: throw new ArgumentException($"Unknown option {name}.");
            }
        }

        if (o.Batch > 5_000)
        {
            throw new ArgumentException("--batch is at most 5000 (the grain's limit per batch).");
        }

        if (o.Workers < o.Runs)
        {
            throw new ArgumentException("--workers must be at least --runs (every run has a worker).");
        }

        return o;
    }
}
