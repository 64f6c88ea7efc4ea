using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OptimizationRuns.Bench.Queries;
using OptimizationRuns.Grains.Data;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
DefaultTypeMap.MatchNamesWithUnderscores = true;
if (args is [AnalysisBaseline.Command, ..])
{
    return await AnalysisBaseline.RunAsync(args, CancellationToken.None);
}


BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
var ct = cancellation.Token;

string Required(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
    ? value : throw new InvalidOperationException($"{name} is not set (bench/queries.sh sets it).");
var ownerConnection = Required("ConnectionStrings__PostgresOwner");
var adminKey = Required("OPTRUNS_ADMIN_KEY");
await using var owner = NpgsqlDataSource.Create(ownerConnection);
// The silo's data classes with the silo's own registration: the service role, its data source settings.
await using var siloData = new ServiceCollection().AddOptimizationRunsData(Required("ConnectionStrings__Postgres")).BuildServiceProvider();
var database = new NpgsqlConnectionStringBuilder(ownerConnection).Database ?? "";
var postgresVersion = await owner.CreateCommand("SHOW server_version").ExecuteScalarAsync(ct);

HttpClient NewClient(Uri baseAddress) => new(new SocketsHttpHandler
{
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    MaxConnectionsPerServer = 64,
    UseCookies = false,
    UseProxy = false,
}) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
using var http = NewClient(options.Gateway);
using var quietHttp = options.QuietGateway is { } quietUrl ? NewClient(quietUrl) : null;

Console.WriteLine($"""
    query benchmark: scale {options.Scale:0.###}, {options.Projects} projects; {options.Requests} requests per pattern and layer
      in {options.Rounds} rounds after {options.Warmup} warm-up requests; gateway {options.Gateway}{(options.QuietGateway is null ? "" : $", Warning-logging gateway {options.QuietGateway}")};
      PostgreSQL {postgresVersion}, database {database}; load average {LoadAverage()}
    """);

// ───────────────────────────── data ─────────────────────────────

var loadSeconds = new Dictionary<string, double>();
List<string> keys;
if (!options.SkipLoad)
{
    Console.WriteLine("projects and API keys through the admin API");
    var projectIds = new List<Guid>();
    keys = [];
    for (var i = 0; i < options.Projects; i++)
    {
        var project = await AdminPostAsync($"/api/projects", new { name = DataSet.ProjectName(i) });
        var id = project.GetProperty("id").GetGuid();
        projectIds.Add(id);
        keys.Add((await AdminPostAsync($"/api/projects/{id}/api-keys", new { name = "bench-queries" })).GetProperty("key").GetString()!);
    }

    var generation = Stopwatch.StartNew();
    var data = DataSet.Generate(options.Scale, projectIds, options.Seed);
    Console.WriteLine($"generated {data.RunCount:N0} runs, {data.IterationCount:N0} iterations, {data.SampleCount:N0} samples in {generation.Elapsed.TotalSeconds:0.0} s; loading as the owner");
    var loader = new Loader(owner, data);
    await loader.LoadAsync(ct);
    foreach (var (phase, seconds) in loader.Seconds)
    {
        loadSeconds[phase] = seconds;
    }
}
else
{
    Console.WriteLine("--skip-load: new API keys for the projects already in the database");
    keys = [];
    await using var connection = await owner.OpenConnectionAsync(ct);
    foreach (var id in await connection.QueryAsync<Guid>(Scenario.DataSetProjects))
    {
        keys.Add((await AdminPostAsync($"/api/projects/{id}/api-keys", new { name = "bench-queries" })).GetProperty("key").GetString()!);
    }
}

var scenario = await Scenario.ReadAsync(owner, options.Seed, ct);
var (runRows, iterationRows, sampleRows, sampleBytes) = await SizesAsync();
Console.WriteLine($"data: {runRows:N0} runs, {iterationRows:N0} iterations, {sampleRows:N0} samples (optimization_samples {sampleBytes / 1048576.0:N0} MiB with indexes); "
    + $"{scenario.LiveRuns.Count} live runs");

// ───────────────────────────── layers ─────────────────────────────

IHost? orleans = null;
var layers = new List<Layer> { new HttpLayer("http", http, keys) };
if (quietHttp is not null)
{
    layers.Add(new HttpLayer("http_warning_logs", quietHttp, keys));
}

if (options.OrleansPort > 0)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
    builder.UseOrleansClient(client => client.UseLocalhostClustering(options.OrleansPort, options.ServiceId, options.ClusterId));
    orleans = builder.Build();
    await orleans.StartAsync(ct);
    layers.Add(new GrainLayer(orleans.Services.GetRequiredService<IClusterClient>(), scenario.Projects, keys));
}

layers.Add(new SiloDataLayer(siloData, scenario.Projects));
layers.Add(new OwnerSqlLayer(owner, scenario.Projects));
var coldNeeded = options.Warmup + options.Requests;
scenario.ReserveColdRuns(layers.Where(l => l.TouchesRunGrains).Select(l => (l.Name, coldNeeded)).Append(("concurrent", options.ConcurrentRequests)));

var pids = new Dictionary<string, int>();
foreach (var (name, variable) in new[] { ("silo", "BENCH_SILO_PID"), ("http", "BENCH_GATEWAY_PID"), ("http_warning_logs", "BENCH_QUIET_GATEWAY_PID") })
{
    if (int.TryParse(Environment.GetEnvironmentVariable(variable), out var pid))
    {
        pids[name] = pid;
    }
}

var cpu = new CpuMeter(pids, database);
var patterns = Scenario.Patterns.Select(p => p.Name).Concat(Scenario.Diagnostics).ToArray();

// Live runs: a worker's heartbeat activates each grain, as a running optimization would keep it.
Console.WriteLine($"warming {scenario.LiveRuns.Count} live runs (heartbeat) and {scenario.WarmRuns.Count} browsed runs");
foreach (var run in scenario.LiveRuns)
{
    await RetryUnavailableAsync(async () =>
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/optimization/runs/{run.Id}/progress")
        {
            Content = JsonContent.Create(new { phase = "searching", message = "bench heartbeat" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[scenario.ProjectOf(run)]);
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"heartbeat of {run.Id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}",
                null, response.StatusCode);
        }
    });
}

foreach (var run in scenario.WarmRuns)
{
    await RetryUnavailableAsync(() => layers[0].RunAsync(new Call("run_iterations_warm", scenario.ProjectOf(run), run.Id), ct));
}

// ───────────────────────────── sequential: latency ─────────────────────────────

var results = new Measurements();
var loadBefore = LoadAverage();
var warmupWatch = Stopwatch.StartNew();
foreach (var pattern in patterns)
{
    foreach (var layer in layers.Where(l => l.Supports(pattern)))
    {
        for (var i = 0; i < options.Warmup; i++)
        {
            var call = scenario.Next(pattern, layer.Name);
            await RetryUnavailableAsync(() => layer.RunAsync(call, ct));
        }
    }
}

// Let the runtimes' background tier-1 JIT of what the warm-up made hot finish before anything is timed.
await Task.Delay(TimeSpan.FromSeconds(5), ct);
Console.WriteLine($"warm-up: {warmupWatch.Elapsed.TotalSeconds:0.0} s; measuring");
var measureWatch = Stopwatch.StartNew();
for (var round = 0; round < options.Rounds; round++)
{
    var perRound = options.Requests / options.Rounds + (round < options.Requests % options.Rounds ? 1 : 0);
    foreach (var pattern in patterns)
    {
        // The layers take turns in a different order each round.
        var supporting = layers.Where(l => l.Supports(pattern)).ToList();
        for (var k = 0; k < supporting.Count; k++)
        {
            var layer = supporting[(k + round) % supporting.Count];
            var calls = Enumerable.Range(0, perRound).Select(_ => scenario.Next(pattern, layer.Name)).ToList();
            var before = cpu.Sample(opening: true);
            foreach (var call in calls)
            {
                var start = Stopwatch.GetTimestamp();
                await layer.RunAsync(call, ct);
                results.Add(pattern, layer.Name, Measurements.Ms(start));
            }

            results.AddCpu(pattern, layer.Name, before, cpu.Sample(opening: false), layer is HttpLayer ? layer.Name : null);
        }
    }

    Console.WriteLine($"  round {round + 1}/{options.Rounds} done ({measureWatch.Elapsed.TotalSeconds:0} s)");
}

var loadAfter = LoadAverage();
var coldShort = layers.Where(l => l.TouchesRunGrains && scenario.ColdReads(l.Name) < coldNeeded).Select(l => l.Name).ToList();
if (coldShort.Count > 0)
{
    Console.WriteLine($"note: too few runs for every run_iterations read to be a first read in {string.Join(", ", coldShort)}: "
        + "the rest read runs again (warm); use a larger --scale");
}

// ───────────────────────────── the analytics refresh beside reads ─────────────────────────────

RefreshPass? refresh = null;
if (options.RefreshReads > 0)
{
    Console.WriteLine($"refresh pass: {options.RefreshReads} reads per pattern while refresh_run_analytics() runs back to back, as many without");
    refresh = new RefreshPass(owner, http, keys[0], layers[0], scenario);
    await refresh.RunAsync(options.RefreshReads, options.Rounds, ct);
}

// ───────────────────────────── concurrent: throughput ─────────────────────────────

var concurrent = new Dictionary<string, (Stats Stats, double Rps)>();
if (options.Concurrency > 0)
{
    Console.WriteLine($"throughput pass: {options.Concurrency} concurrent clients, {options.ConcurrentRequests} requests per pattern, gateway as shipped");
    var httpLayer = layers[0];
    foreach (var pattern in Scenario.Patterns.Select(p => p.Name))
    {
        var calls = Enumerable.Range(0, options.ConcurrentRequests).Select(_ => scenario.Next(pattern, "concurrent")).ToArray();
        var latencies = new double[calls.Length];
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < calls.Length)
            {
                var start = Stopwatch.GetTimestamp();
                await httpLayer.RunAsync(calls[i], ct);
                latencies[i] = Measurements.Ms(start);
            }
        }, ct)));
        concurrent[pattern] = (Stats.Of(latencies), calls.Length / watch.Elapsed.TotalSeconds);
    }
}

if (orleans is not null)
{
    await orleans.StopAsync(CancellationToken.None);
    orleans.Dispose();
}

// ───────────────────────────── report ─────────────────────────────

var layerNames = layers.Select(l => l.Name).ToList();
Console.WriteLine();
Console.WriteLine($"latency, ms: {options.Requests} sequential requests per pattern and layer (one client), nearest-rank percentiles");
Console.WriteLine($"{"pattern",-20} {"target",-11} | {"http (as shipped)",-20} | {"http, Warning logs",-20} | {"grain (no HTTP)",-14} | {"silo data (RLS)",-14} | {"sql (owner)",-14} | target");
Console.WriteLine($"{"",-20} {"",-11} | {"p50   p95   p99",20} | {"p50   p95   p99",20} | {"p50   p95",14} | {"p50   p95",14} | {"p50   p95",14} |");
var missed = new List<string>();
foreach (var pattern in patterns)
{
    var target = Scenario.Patterns.FirstOrDefault(p => p.Name == pattern);
    var h = results.Get(pattern, "http");
    var verdict = "";
    var targetText = "";
    if (target.Name is not null && h is not null)
    {
        var ok = h.P95 <= target.P95Target && (pattern != "live_snapshot" || h.P99 <= Scenario.LiveSnapshotP99Target);
        targetText = pattern == "live_snapshot" ? $"p99≤{Scenario.LiveSnapshotP99Target:0}" : $"p95≤{target.P95Target:0}";
        verdict = ok ? "met" : "MISSED";
        if (!ok)
        {
            missed.Add(pattern);
        }
    }
    else if (target.Name is null)
    {
        targetText = "(diagnostic)";
    }

    Console.WriteLine($"{pattern,-20} {targetText,-11} | {Three(h),20} | {Three(results.Get(pattern, "http_warning_logs")),20} | "
        + $"{Two(results.Get(pattern, "grain")),14} | {Two(results.Get(pattern, "silo_data")),14} | {Two(results.Get(pattern, "sql")),14} | {verdict}");
}

// Issue 14's second target: what the gateway and the grains add to plain SQL (same requests, same run), at p95.
const double HopP95Target = 1.5;
var hops = new JsonObject();
Console.WriteLine();
Console.WriteLine($"the gateway+grain hop over plain SQL at p95 (http p95 − sql p95; target ≤ +{HopP95Target} ms), p50 in brackets");
foreach (var (pattern, _) in Scenario.Patterns)
{
    if (results.Get(pattern, "http") is { } h && results.Get(pattern, "sql") is { } q)
    {
        var hop = h.P95 - q.P95;
        hops[pattern] = Math.Round(hop, 2);
        Console.WriteLine($"  {pattern,-20} {hop,7:+0.00;-0.00} ({h.P50 - q.P50:+0.00;-0.00}) {(hop <= HopP95Target ? "met" : "MISSED")}");
    }
}

Console.WriteLine();
Console.WriteLine("CPU ms per request (sequential pass): gateway / silo / postgres backends / this client");
foreach (var pattern in patterns)
{
    var parts = layerNames.Select(l => (l, c: results.CpuPerRequest(pattern, l))).Where(x => x.c is { Count: > 0 })
        .Select(x => $"{x.l} {Cpu(x.c!, "gateway")}/{Cpu(x.c!, "silo")}/{Cpu(x.c!, "postgres")}/{Cpu(x.c!, "bench")}");
    Console.WriteLine($"  {pattern,-20} {string.Join("   ", parts)}");
}

if (concurrent.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine($"throughput through the gateway with {options.Concurrency} concurrent clients");
    foreach (var (pattern, (stats, rps)) in concurrent)
    {
        Console.WriteLine($"  {pattern,-20} {rps,7:N0} req/s   p50 {stats.P50,6:0.00}  p95 {stats.P95,6:0.00}  p99 {stats.P99,6:0.00} ms");
    }
}

if (refresh is not null)
{
    var durations = Stats.Of(refresh.RefreshSeconds.ToArray());
    Console.WriteLine();
    Console.WriteLine($"analytics refresh (refresh_run_analytics(), REFRESH MATERIALIZED VIEW CONCURRENTLY), {durations.Count} back to back: "
        + $"p50 {durations.P50:0.000} s, max {durations.Max:0.000} s; through POST /analytics/refresh: {refresh.HttpRefresh.Ms:0} ms, HTTP {refresh.HttpRefresh.Status}");
    Console.WriteLine($"reads through http while it ran vs without ({options.RefreshReads} per pattern each, interleaved), ms");
    Console.WriteLine($"  {"pattern",-20} {"during p50   p95    max",26} | {"without p50   p95    max",27}");
    foreach (var pattern in Scenario.Patterns.Select(p => p.Name))
    {
        var during = refresh.Reads.Get(pattern, "during")!;
        var quiet = refresh.Reads.Get(pattern, "quiet")!;
        Console.WriteLine($"  {pattern,-20} {during.P50,12:0.00} {during.P95,6:0.00} {during.Max,6:0.0} | {quiet.P50,13:0.00} {quiet.P95,6:0.00} {quiet.Max,6:0.0}");
    }
}

Console.WriteLine();
Console.WriteLine($"load average before measuring: {loadBefore}; after: {loadAfter}; {(missed.Count == 0 ? "all targets met" : "targets missed: " + string.Join(", ", missed))}");

var json = new JsonObject();
foreach (var (pattern, _) in Scenario.Patterns)
{
    json[pattern] = Percentiles(results.Get(pattern, "http"));
}

foreach (var layer in layerNames.Where(l => l != "http"))
{
    var section = new JsonObject();
    foreach (var pattern in patterns.Where(p => results.Get(p, layer) is not null))
    {
        section[pattern] = Percentiles(results.Get(pattern, layer));
    }

    json[layer] = section;
}

json["diagnostics"] = new JsonObject
{
    ["run_iterations_warm"] = Percentiles(results.Get("run_iterations_warm", "http")),
    ["http_floor"] = Percentiles(results.Get("http_floor", "http")),
    ["auth_hop"] = Percentiles(results.Get("auth_hop", "grain")),
    ["activation_reads"] = Percentiles(results.Get("activation_reads", "silo_data")),
};
var cpuJson = new JsonObject();
foreach (var layer in layerNames.Where(l => l.StartsWith("http", StringComparison.Ordinal)))
{
    var section = new JsonObject();
    foreach (var pattern in patterns)
    {
        if (results.CpuPerRequest(pattern, layer) is { Count: > 0 } c)
        {
            section[pattern] = new JsonObject(c.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Math.Round(p.Value, 2))));
        }
    }

    cpuJson[layer] = section;
}

json["cpu_ms_per_request"] = cpuJson;
if (concurrent.Count > 0)
{
    var section = new JsonObject { ["clients"] = options.Concurrency };
    foreach (var (pattern, (stats, rps)) in concurrent)
    {
        var p = Percentiles(stats)!;
        p["rps"] = Math.Round(rps);
        section[pattern] = p;
    }

    json["concurrent"] = section;
}

if (refresh is not null)
{
    var durations = Stats.Of(refresh.RefreshSeconds.ToArray());
    var reads = new JsonObject();
    foreach (var pattern in Scenario.Patterns.Select(p => p.Name))
    {
        reads[pattern] = new JsonObject
        {
            ["during"] = Percentiles(refresh.Reads.Get(pattern, "during")),
            ["without"] = Percentiles(refresh.Reads.Get(pattern, "quiet")),
        };
    }

    json["refresh"] = new JsonObject
    {
        ["refreshes"] = durations.Count,
        ["p50_s"] = Math.Round(durations.P50, 3),
        ["max_s"] = Math.Round(durations.Max, 3),
        ["http_ms"] = Math.Round(refresh.HttpRefresh.Ms),
        ["http_status"] = refresh.HttpRefresh.Status,
        ["reads"] = reads,
    };
}

json["hop_p95_ms"] = hops;
json["targets_met"] = missed.Count == 0;
json["targets_missed"] = new JsonArray(missed.Select(m => (JsonNode?)m).ToArray());
json["requests_per_pattern"] = options.Requests;
json["data"] = new JsonObject
{
    ["scale"] = options.Scale,
    ["projects"] = scenario.Projects.Count,
    ["runs"] = runRows,
    ["iterations"] = iterationRows,
    ["samples"] = sampleRows,
    ["samples_mib"] = Math.Round(sampleBytes / 1048576.0),
};
if (loadSeconds.Count > 0)
{
    json["load_seconds"] = new JsonObject(loadSeconds.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Math.Round(p.Value, 1))));
}

json["load_average"] = new JsonObject { ["before"] = loadBefore, ["after"] = loadAfter };
var line = json.ToJsonString();
if (options.ResultFile is { } file)
{
    await File.WriteAllTextAsync(file, line + "\n", CancellationToken.None);
}

Console.WriteLine(line);
return 0;

// Before anything is measured, a 503 (the gateway's deadline passed: a first read of a cold table on a loaded machine)
// is retried after a second, as a client honouring Retry-After would; a measured request is never retried.
async Task RetryUnavailableAsync(Func<Task> call)
{
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            await call();
            return;
        }
        catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && attempt < 10)
        {
            Console.WriteLine($"  warm-up: {e.Message.Split('\n')[0][..Math.Min(120, e.Message.Length)]}; retrying in 1 s");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }
}

async Task<JsonElement> AdminPostAsync(string path, object body)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
    using var response = await http.SendAsync(request, ct);
    var text = await response.Content.ReadAsStringAsync(ct);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
    }

    return JsonDocument.Parse(text).RootElement.Clone();
}

async Task<(long Runs, long Iterations, long Samples, long SampleBytes)> SizesAsync()
{
    await using var connection = await owner.OpenConnectionAsync(ct);
    return await connection.QuerySingleAsync<(long, long, long, long)>(new CommandDefinition("""
        SELECT (SELECT count(*) FROM optimization_runs), (SELECT count(*) FROM optimization_iterations),
               (SELECT count(*) FROM optimization_samples),
               -- The parent of a partitioned table has no storage of its own: its partitions' sizes (either layout).
               (SELECT sum(pg_total_relation_size(relid))::bigint FROM pg_partition_tree('optimization_samples'))
        """, commandTimeout: 300, cancellationToken: ct));
}

static JsonObject? Percentiles(Stats? s) => s is null ? null : new JsonObject
{
    ["p50"] = Math.Round(s.P50, 2),
    ["p95"] = Math.Round(s.P95, 2),
    ["p99"] = Math.Round(s.P99, 2),
};

static string Three(Stats? s) => s is null ? "-" : $"{s.P50,5:0.00} {s.P95,5:0.00} {s.P99,6:0.00}";

static string Two(Stats? s) => s is null ? "-" : $"{s.P50,5:0.00} {s.P95,6:0.00}";

static string Cpu(Dictionary<string, double> c, string part) => c.TryGetValue(part, out var v) ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-";

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
