using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Comparisons;
using OptimizationRuns.Grains.Data;

namespace OptimizationRuns.Bench.Queries;

/// <summary>
/// The SQL baseline of bench/run-analysis.sh: each analysis read of the run-analysis benchmark answered by the silo's
/// own data classes in this process (the service role, its transaction under the project for row-level security, the
/// silo's data source settings, the same statements), with no grain, no gateway and no HTTP; and the export run's
/// samples as one COPY … TO STDOUT (CSV) under the same role. Prints one line per pattern, then one JSON object.
/// </summary>
public static class AnalysisBaseline
{
    public const string Command = "analysis-baseline";

    public const string Usage = """
        Usage: OptimizationRuns.Bench.Queries analysis-baseline --project ID --run ID --other-run ID --export-run ID
                 [--requests N] [--rounds N] [--warmup N] [--warmup-seconds S] [--copies N]

        Warm-up: rounds of --warmup reads per pattern for at least --warmup-seconds; then --requests reads per
        pattern in --rounds rounds, each visiting every pattern (as bench/run-analysis.sh measures through HTTP).

        Needs ConnectionStrings__Postgres (the service role). bench/run-analysis.sh runs it.
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>();
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        if (!values.TryGetValue("--project", out var projectText) || !values.TryGetValue("--run", out var runText)
            || !values.TryGetValue("--other-run", out var otherText) || !values.TryGetValue("--export-run", out var exportText))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var project = Guid.Parse(projectText);
        var run = Guid.Parse(runText);
        var other = Guid.Parse(otherText);
        var exportRun = Guid.Parse(exportText);
        var requests = int.Parse(values.GetValueOrDefault("--requests", "300"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(values.GetValueOrDefault("--rounds", "5"), CultureInfo.InvariantCulture);
        var warmup = int.Parse(values.GetValueOrDefault("--warmup", "50"), CultureInfo.InvariantCulture);
        var warmupTime = TimeSpan.FromSeconds(double.Parse(values.GetValueOrDefault("--warmup-seconds", "15"), CultureInfo.InvariantCulture));
        var copies = int.Parse(values.GetValueOrDefault("--copies", "2"), CultureInfo.InvariantCulture);
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set (bench/run-analysis.sh sets it).");

        await using var services = new ServiceCollection().AddOptimizationRunsData(connectionString).BuildServiceProvider();
        var analysis = services.GetRequiredService<RunAnalysisQueries>();
        var candidates = services.GetRequiredService<CandidateStore>();
        var comparisons = services.GetRequiredService<ComparisonQueries>();

        // The cursors of the HTTP patterns' next pages: the 50th example of each order.
        var hardestAfter = (await analysis.ExamplesAsync(project, new ExampleQuery { RunId = run }, 50, cancellationToken))![^1].Position;
        var flakiestAfter = (await analysis.ExamplesAsync(project, new ExampleQuery { RunId = run, Sort = ExampleSort.Flakiest }, 50, cancellationToken))![^1].Position;
        var best = new ComparisonQuery(new ComparisonSide(run), new ComparisonSide(other));
        var patterns = new (string Name, Func<int, Task> Read)[]
        {
            ("trajectory", _ => analysis.TrajectoryAsync(project, run, cancellationToken)),
            ("candidates", _ => candidates.ReadAsync(project, run, cancellationToken)),
            ("compare", _ => comparisons.CompareAsync(project, best, cancellationToken)),
            ("compare_baseline", _ => comparisons.CompareAsync(project, new ComparisonQuery(new ComparisonSide(run, 0), new ComparisonSide(run)), cancellationToken)),
            ("compare_examples", _ => comparisons.PageAsync(project, new ComparisonExamplesQuery { Comparison = best, Bucket = ComparisonBucket.Regressed }, 51, cancellationToken)),
            ("examples_hardest", _ => analysis.ExamplesAsync(project, new ExampleQuery { RunId = run }, 51, cancellationToken)),
            ("examples_flakiest", _ => analysis.ExamplesAsync(project, new ExampleQuery { RunId = run, Sort = ExampleSort.Flakiest }, 51, cancellationToken)),
            ("examples_next_page", i => analysis.ExamplesAsync(project, i % 2 == 0
                ? new ExampleQuery { RunId = run, After = hardestAfter }
                : new ExampleQuery { RunId = run, Sort = ExampleSort.Flakiest, After = flakiestAfter }, 51, cancellationToken)),
            ("examples_kind_full", _ => analysis.ExamplesAsync(project, new ExampleQuery { RunId = run, Kind = Grains.Runs.IterationKind.Full, MinEvaluations = 5 }, 51, cancellationToken)),
        };

        var json = new List<string>();
        Console.WriteLine($"SQL baseline: the silo's data classes in-process ({requests} sequential reads per pattern in {rounds} rounds after ≥ {warmupTime.TotalSeconds:0} s of warm-up; nearest-rank percentiles, ms)");
        var warming = Stopwatch.StartNew();
        do
        {
            foreach (var (_, read) in patterns)
            {
                for (var i = 0; i < warmup; i++)
                {
                    await read(i);
                }
            }
        }
        while (warming.Elapsed < warmupTime);

        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken); // the background tier-1 compilations
        var times = patterns.ToDictionary(p => p.Name, _ => new List<double>(requests));
        var perRound = Math.Max(1, requests / rounds);
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, read) in patterns)
            {
                for (var i = 0; i < perRound; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await read(i);
                    times[name].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }

        Console.WriteLine($"{"pattern",-20} {"p50",8} {"p95",8} {"p99",8} {"max",8}");
        foreach (var (name, _) in patterns)
        {
            var sorted = times[name].Order().ToArray();
            double Rank(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
            Console.WriteLine($"{name,-20} {Rank(0.50),8:0.00} {Rank(0.95),8:0.00} {Rank(0.99),8:0.00} {sorted[^1],8:0.00}");
            json.Add($"\"{name}\":{{\"p50_ms\":{Rank(0.50):0.00},\"p95_ms\":{Rank(0.95):0.00},\"p99_ms\":{Rank(0.99):0.00},\"max_ms\":{sorted[^1]:0.00}}}");
        }

        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var exports = new List<string>();
        for (var i = 0; i < copies; i++)
        {
            var (rows, bytes, seconds) = await CopyAsync(dataSource, project, exportRun, cancellationToken);
            Console.WriteLine($"COPY of the export run as CSV: {rows:N0} rows, {bytes / 1048576.0:0} Mi characters in {seconds:0.00} s = {rows / seconds:N0} samples/s");
            exports.Add($"{{\"rows\":{rows},\"characters\":{bytes},\"seconds\":{seconds:0.00},\"samples_per_s\":{rows / seconds:0}}}");
        }

        Console.WriteLine($"{{\"sql_latency\":{{{string.Join(',', json)}}},\"sql_copy\":[{string.Join(',', exports)}]}}");
        return 0;
    }

    // The export's columns, in its order, read from the primary key in its order, as one COPY under the project.
    private static async Task<(long Rows, long Bytes, double Seconds)> CopyAsync(
        NpgsqlDataSource dataSource, Guid project, Guid run, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var set = new NpgsqlCommand("SELECT set_config('app.project_id', $1, true)", connection, transaction))
        {
            set.Parameters.Add(new NpgsqlParameter<string> { TypedValue = project.ToString() });
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        var select = RunAnalysisQueries.SamplePageSql.Replace("$1", $"'{run}'").Replace("LIMIT $2", "").Replace("($3, $4)", "(-1, -1)");
        long rows = 0, bytes = 0;
        // Text as CSV, decoded as it arrives (the generated rows hold no line breaks inside cells: one line a row).
        using (var copy = await connection.BeginTextExportAsync($"COPY ({select}) TO STDOUT (FORMAT csv)", cancellationToken))
        {
            var buffer = new char[1 << 15];
            int read;
            while ((read = await copy.ReadAsync(buffer, cancellationToken)) > 0)
            {
                bytes += read;
                rows += buffer.AsSpan(0, read).Count('\n');
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return (rows, bytes, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
