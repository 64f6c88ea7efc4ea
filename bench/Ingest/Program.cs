using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OptimizationRuns.Bench.Ingest;
using OptimizationRuns.Grains.Runs;
using Orleans.Configuration;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

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

var workload = new Workload(options.PayloadBytes, options.Batch, options.IterationEvery);
await using var database = OwnerDatabase.FromEnvironment();
var postgres = await database.ServerVersionAsync(ct);

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
var connectAttempts = 0;
builder.UseOrleansClient(client =>
{
    // Several gateways: a cluster of silos (ADO.NET membership); the client spreads its calls over their gateways.
    client.UseStaticClustering(options.GatewayPorts.Select(port => new IPEndPoint(IPAddress.Loopback, port)).ToArray())
        .Configure<ClusterOptions>(o => (o.ServiceId, o.ClusterId) = (options.ServiceId, options.ClusterId))
        .UseConnectionRetryFilter(async (_, token) =>
        {
            // The silo may still be starting: keep trying for a minute.
            await Task.Delay(TimeSpan.FromSeconds(1), token);
            return ++connectAttempts < 60;
        });
});
using var host = builder.Build();
await host.StartAsync(ct);
var cluster = host.Services.GetRequiredService<IClusterClient>();

var projectId = await database.CreateProjectAsync(ct);
var loadBefore = LoadAverage();
var mode = options.DurationSeconds is { } seconds ? $"{seconds:0.#} s per round" : $"{options.BatchesPerWorker} batches per worker per round";
Console.WriteLine($"""
    ingest benchmark: {options.Runs} runs, {options.Workers} workers, batches of {options.Batch} samples of ~{workload.PayloadBytes} bytes,
      {mode}, {options.Repeat} measured rounds of each kind (raw and grains alternate), warm-up {options.WarmupBatches} batches per worker;
      silo gateways 127.0.0.1:{string.Join(", ", options.GatewayPorts)}, PostgreSQL {postgres}, project {projectId}
    """);

var cpu = new CpuMeter(options.SiloPids, options.GatewayPid, database.DatabaseName, database.CountersAsync);
var grains = options.Via == "http"
    ? new GrainRound("http", await HttpWriters.ForProjectAsync(options, projectId, ct), database, options, workload, cpu,
        clientKey => RunIds.ForClientKey(projectId, clientKey))
    : new GrainRound("grains", id => new GrainRunWriter(cluster.GetGrain<IRunGrain>(id, projectId.ToString())), database, options, workload, cpu);
var raw = new RawCopyRound(database, projectId, options, workload, cpu);
var results = new List<RoundResult>();
var duration = options.DurationSeconds is { } d ? TimeSpan.FromSeconds(d) : (TimeSpan?)null;
int? storedRowBytes = null;

if (options.WarmupBatches > 0)
{
    Console.WriteLine("warm-up (not measured)");
    Report(await raw.RunAsync("raw warm-up", measured: false, options.WarmupBatches, null, ct));
    Report(await grains.RunAsync($"{options.Via} warm-up", measured: false, options.WarmupBatches, null, ct));
}

for (var round = 1; round <= options.Repeat; round++)
{
    Report(await raw.RunAsync($"raw {round}", measured: true, options.BatchesPerWorker, duration, ct));
    storedRowBytes ??= await database.StoredRowBytesAsync(raw.LastRunIds, ct);
    Report(await grains.RunAsync($"{options.Via} {round}", measured: true, options.BatchesPerWorker, duration, ct));
}

var measuredRaw = results.Where(r => r is { Measured: true, Kind: "raw" }).ToList();
var measuredGrains = results.Where(r => r is { Measured: true } && r.Kind != "raw").ToList();
var samplesPerSecond = Median(measuredGrains.Select(r => r.RowsPerSecond));
var rawPerSecond = Median(measuredRaw.Select(r => r.RowsPerSecond));
var ratio = samplesPerSecond / rawPerSecond;
// The issues' targets: through the grains ≥ 60 % of raw COPY; through HTTP (JSON over loopback) ≥ 40 %.
var target = options.Via == "http" ? 0.40 : 0.60;
var p50 = Median(measuredGrains.Select(r => r.P50Ms!.Value));
var p95 = Median(measuredGrains.Select(r => r.P95Ms!.Value));
var p99 = Median(measuredGrains.Select(r => r.P99Ms!.Value));
RoundResult? paced = null;
if (options.PacedFraction > 0 && samplesPerSecond > 0)
{
    var offered = samplesPerSecond * options.PacedFraction;
    Console.WriteLine($"paced round: {offered:N0} samples/s offered ({options.PacedFraction:0.##} × the median grain rate), workers on a fixed schedule");
    paced = await grains.RunAsync($"{options.Via} paced", measured: false, int.MaxValue, TimeSpan.FromSeconds(options.PacedSeconds), offered, ct);
    Report(paced);
}

await host.StopAsync(CancellationToken.None);
var verified = results.All(r => r.Verified);
var storage = await database.SampleStorageAsync(ct);

Console.WriteLine($"""

    summary (medians of {options.Repeat} rounds)
      through the {options.Via,-6}   {samplesPerSecond,9:N0} samples/s committed   ack p50 {p50:0.0} ms  p95 {p95:0.0} ms  p99 {p99:0.0} ms
      raw binary COPY      {rawPerSecond,9:N0} rows/s (one connection, as the owner)
      ratio                {ratio:0.000}   target ≥ {target:0.00}: {(ratio >= target ? "met" : "MISSED")};  p99 ≤ 50 ms: {(p99 <= 50 ? "met" : "MISSED")}
      rows: ~{workload.PayloadBytes} bytes per sample as sent, {storedRowBytes} bytes stored (pg_column_size); optimization_samples now {storage.Rows:N0} rows, {storage.TotalBytes / 1048576.0:N0} MiB with indexes ({storage.BytesPerRow:0} bytes per row: heap {storage.HeapBytes / (double)storage.Rows:0}, TOAST and maps {storage.ToastBytes / (double)storage.Rows:0}, indexes {(storage.TotalBytes - storage.HeapBytes - storage.ToastBytes) / (double)storage.Rows:0})
      paced at {paced?.RowsPerSecond ?? 0:N0} samples/s: ack p50 {paced?.P50Ms:0.0} ms  p95 {paced?.P95Ms:0.0} ms  p99 {paced?.P99Ms:0.0} ms (latency counted from when each call was due)
      every round's database count equals what was acknowledged: {(verified ? "yes" : "NO")}
      load average (1/5/15 min) before: {loadBefore}; after: {LoadAverage()}
    """);

var json = new JsonObject
{
    ["samples_per_s"] = Math.Round(samplesPerSecond),
    ["raw_copy_per_s"] = Math.Round(rawPerSecond),
    ["ratio"] = Math.Round(ratio, 3),
    ["p50_ms"] = Math.Round(p50, 2),
    ["p95_ms"] = Math.Round(p95, 2),
    ["p99_ms"] = Math.Round(p99, 2),
    ["via"] = options.Via,
    ["runs"] = options.Runs,
    ["workers"] = options.Workers,
    ["batch"] = options.Batch,
    ["payload_bytes"] = workload.PayloadBytes,
    ["stored_row_bytes"] = storedRowBytes,
    ["rounds"] = options.Repeat,
    ["batches_per_worker"] = options.DurationSeconds is null ? options.BatchesPerWorker : null,
    ["duration_s"] = options.DurationSeconds,
    ["iteration_ack_p99_ms"] = Round(Median(measuredGrains.Where(r => r.IterationP99Ms is not null).Select(r => r.IterationP99Ms!.Value))),
    ["overloaded_retries"] = measuredGrains.Sum(r => r.Overloaded),
    ["verified"] = verified,
    ["grain_rounds_per_s"] = new JsonArray(measuredGrains.Select(r => (JsonNode?)Math.Round(r.RowsPerSecond)).ToArray()),
    ["raw_rounds_per_s"] = new JsonArray(measuredRaw.Select(r => (JsonNode?)Math.Round(r.RowsPerSecond)).ToArray()),
    ["grain_rounds_p99_ms"] = new JsonArray(measuredGrains.Select(r => (JsonNode?)Math.Round(r.P99Ms!.Value, 2)).ToArray()),
    ["paced_per_s"] = paced is null ? null : Math.Round(paced.RowsPerSecond),
    ["paced_p50_ms"] = paced?.P50Ms is { } pp50 ? Math.Round(pp50, 2) : null,
    ["paced_p99_ms"] = paced?.P99Ms is { } pp99 ? Math.Round(pp99, 2) : null,
    ["targets_met"] = ratio >= target && p99 <= 50,
    ["silos"] = options.SiloPids.Count,
    ["grain_rounds_cpu_per_1k"] = new JsonArray(measuredGrains.Select(r => (JsonNode?)r.Cpu?.PerThousand(r.Rows, r.Seconds)).ToArray()),
    ["raw_rounds_cpu_per_1k"] = new JsonArray(measuredRaw.Select(r => (JsonNode?)r.Cpu?.PerThousand(r.Rows, r.Seconds)).ToArray()),
    ["samples_table"] = new JsonObject
    {
        ["rows"] = storage.Rows,
        ["heap_bytes"] = storage.HeapBytes,
        ["toast_and_maps_bytes"] = storage.ToastBytes,
        ["total_bytes"] = storage.TotalBytes,
        ["bytes_per_row"] = Math.Round(storage.BytesPerRow),
        ["index_bytes"] = new JsonObject(storage.IndexBytes.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
    },
    ["load_average_before"] = loadBefore,
    ["load_average_after"] = LoadAverage(),
};
var line = json.ToJsonString();
if (options.ResultFile is { } file)
{
    await File.WriteAllTextAsync(file, line + "\n", CancellationToken.None);
}
else
{
    Console.WriteLine(line);
}

return verified ? 0 : 3;

void Report(RoundResult r)
{
    results.Add(r);
    var check = r.Verified ? "db count matches" : $"MISMATCH: {r.Problem}";
    if (r.Kind == "raw")
    {
        Console.WriteLine($"{r.Label,-15} {r.Rows,9:N0} rows    in {r.Seconds,6:0.00} s = {r.RowsPerSecond,9:N0} rows/s     ({check})");
    }
    else
    {
        Console.WriteLine($"{r.Label,-15} {r.Rows,9:N0} samples in {r.Seconds,6:0.00} s = {r.RowsPerSecond,9:N0} samples/s; "
            + $"ack p50 {r.P50Ms:0.0} p95 {r.P95Ms:0.0} p99 {r.P99Ms:0.0} max {r.MaxMs:0.0} ms; "
            + $"{r.Iterations} iteration acks p99 {r.IterationP99Ms:0.0} ms; {r.Overloaded} overloaded retries ({check})");
    }

    if (r.Cpu is { } use)
    {
        Console.WriteLine($"{"",-15} {use.Describe(r.Rows)}");
    }
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    if (sorted.Count == 0)
    {
        return double.NaN;
    }

    var middle = sorted.Count / 2;
    return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static double? Round(double value) => double.IsNaN(value) ? null : Math.Round(value, 2);
