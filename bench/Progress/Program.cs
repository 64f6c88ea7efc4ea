using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using OptimizationRuns.Bench.Ingest;
using OptimizationRuns.Bench.Progress;
using DatabaseCounters = OptimizationRuns.Bench.Progress.DatabaseCounters;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

ProgressOptions options;
try
{
    options = ProgressOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(ProgressOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(ProgressOptions.Usage);
    return 0;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
var ct = cancellation.Token;
// 8,000 concurrent workers start at once; without enough threads at hand the first second is spent growing the pool.
ThreadPool.SetMinThreads(64, 64);

var ownerConnection = Environment.GetEnvironmentVariable("ConnectionStrings__PostgresOwner")
    ?? throw new InvalidOperationException("ConnectionStrings__PostgresOwner is not set (bench/progress.sh sets it).");
var adminKey = Environment.GetEnvironmentVariable("OPTRUNS_ADMIN_KEY")
    ?? throw new InvalidOperationException("OPTRUNS_ADMIN_KEY is not set (bench/progress.sh sets it).");
await using var owner = NpgsqlDataSource.Create(ownerConnection);
var databaseName = new NpgsqlConnectionStringBuilder(ownerConnection).Database ?? "";
using var api = await ProgressApi.ConnectAsync(options.HttpUrl, adminKey, options.Connections, ct);
// The gateway is metered apart (PhaseCpu), so this meter's "other" still counts it and PhaseUse takes it out.
var silo = new CpuMeter(options.SiloPid is { } siloPid ? [siloPid] : [], null, databaseName);
var loadBefore = LoadAverage();

Console.WriteLine($"""
    progress benchmark: {options.Runs} runs × {options.WorkersPerRun} workers, one report each per {options.IntervalSeconds:0.##} s
      = {options.OfferedUpdatesPerSecond:N0} reports/s offered ({options.HeartbeatShare:P0} bare heartbeats, the rest phase + iteration + a new message);
      sample stream {options.SamplesPerSecond:N0} samples/s in batches of {options.Batch} to {options.SampleRuns} of the runs;
      phases of {options.Seconds:0} s: samples alone, progress alone, both; a watcher (SSE) on every run; gateway {options.HttpUrl}
    """);

// Runs are created pending with a watcher each, then their first report starts them (a status change the watchers must see).
var runs = new List<Guid>(options.Runs);
var watches = new List<Task<RunWatch>>(options.Runs);
using (var gate = new SemaphoreSlim(32))
{
    await Task.WhenAll(Enumerable.Range(0, options.Runs).Select(async i =>
    {
        await gate.WaitAsync(ct);
        try
        {
            var runId = await api.CreateRunAsync($"bench-progress-{i:D4}", ct);
            var watch = await api.WatchAsync(runId, ct);
            for (var attempt = 1; ; attempt++)
            {
                var status = await api.ReportProgressAsync(runId, """{"phase":"bootstrapping","message":"bootstrapping demos"}"""u8.ToArray(), ct);
                if ((int)status == 200)
                {
                    break;
                }

                if (attempt == 30)
                {
                    throw new InvalidOperationException($"the first report of run {runId} was answered {(int)status}");
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }

            lock (runs)
            {
                runs.Add(runId);
                watches.Add(watch);
            }
        }
        finally
        {
            gate.Release();
        }
    }));
}

Console.WriteLine($"{runs.Count} runs started, each with a watcher; load average {LoadAverage()}");
var load = new PacedLoad(api, options, runs);
if (options.WarmupSeconds > 0)
{
    var warm = await load.RunAsync(progress: true, samples: true, TimeSpan.FromSeconds(options.WarmupSeconds), ct);
    Console.WriteLine($"warm-up (not measured): {warm.Progress.Count:N0} reports, {warm.SamplesAcknowledged:N0} samples");
}

var phases = new List<PhaseResult>();
foreach (var (name, progress, samples) in new[] { ("samples", false, true), ("progress", true, false), ("mixed", true, true) })
{
    await SettleAsync();
    var counters = await DatabaseCounters.ReadAsync(owner, ct);
    var cpuBefore = await CpuAsync();
    var phase = await load.RunAsync(progress, samples, TimeSpan.FromSeconds(options.Seconds), ct);
    // The coalesced writes of the phase's last reports follow within the write period (1 s): counted with it.
    await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
    var cpu = (await CpuAsync()).Since(cpuBefore);
    var loadAverage = LoadAverage();
    await SettleAsync();
    var written = (await DatabaseCounters.ReadAsync(owner, ct)).Since(counters);
    var result = new PhaseResult(name, phase, cpu, written, loadAverage);
    phases.Add(result);
    Console.WriteLine(result.Describe());
}

Console.WriteLine("completing every run while its watcher reads …");
using (var gate = new SemaphoreSlim(32))
{
    await Task.WhenAll(runs.Select(async runId =>
    {
        await gate.WaitAsync(ct);
        try
        {
            await api.CompleteAsync(runId, ct);
        }
        finally
        {
            gate.Release();
        }
    }));
}

var seen = await Task.WhenAll(watches).WaitAsync(TimeSpan.FromMinutes(2), ct);
var complete = seen.Count(w => w.InOrder && w.Statuses.SequenceEqual(["running", "completed"]));
var byPhase = phases.ToDictionary(p => p.Name);
var samplesOnly = byPhase["samples"];
var progressOnly = byPhase["progress"];
var mixed = byPhase["mixed"];

Console.WriteLine($"""

    summary
      progress alone: {progressOnly.UpdatesPerSecond:N0} reports/s acknowledged of {options.OfferedUpdatesPerSecond:N0} offered; ack p50 {progressOnly.P50:0.0} ms  p99 {progressOnly.P99:0.0} ms
      with samples:   {mixed.UpdatesPerSecond:N0} reports/s + {mixed.SamplesPerSecond:N0} samples/s; ack p50 {mixed.P50:0.0} ms  p99 {mixed.P99:0.0} ms (target ≤ 20 ms: {(mixed.P99 <= 20 ? "met" : "MISSED")})
      database writes per report: {progressOnly.RunWritesPerUpdate:0.000} run-row updates + {progressOnly.StateWritesPerUpdate:0.000} grain-state updates; {progressOnly.CommitsPerUpdate:0.000} transactions
      cpu ms per 1,000 reports (progress alone): {progressOnly.CpuPerThousand(progressOnly.Updates)}
      cpu ms per 1,000 samples (samples alone):  {samplesOnly.CpuPerThousand(samplesOnly.Load.SamplesAcknowledged)}
      watchers that saw every status change (running, completed) in order: {complete} of {seen.Length}
      load average (1/5/15 min) before: {loadBefore}; after: {LoadAverage()}
    """);

var json = new JsonObject
{
    ["offered_updates_per_s"] = options.OfferedUpdatesPerSecond,
    ["runs"] = options.Runs,
    ["workers_per_run"] = options.WorkersPerRun,
    ["heartbeat_share"] = options.HeartbeatShare,
    ["phase_seconds"] = options.Seconds,
    ["watchers"] = seen.Length,
    ["watchers_complete"] = complete,
    ["load_before"] = loadBefore,
};
foreach (var phase in phases)
{
    json[phase.Name] = phase.ToJson();
}

var line = json.ToJsonString();
if (options.ResultFile is { } file)
{
    await File.WriteAllTextAsync(file, line + "\n", CancellationToken.None);
}
else
{
    Console.WriteLine(line);
}

return complete == seen.Length ? 0 : 3;

// The gateway's CPU is read like the silo's: a second meter on its process id.
async Task<PhaseCpu> CpuAsync() => new(await silo.SampleAsync(ct), CpuMeter.ProcessSeconds(options.GatewayPid));

// PostgreSQL's backends report their statistics within 1 s of a busy transaction's end, but an idle one only after
// 10 s: the counters are read once they have.
async Task SettleAsync() => await Task.Delay(TimeSpan.FromSeconds(11), ct);

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
