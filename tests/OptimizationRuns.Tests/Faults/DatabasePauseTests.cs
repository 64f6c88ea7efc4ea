using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dapper;
using OptimizationRuns.Tests.Gateway;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// The database freezes under ingesting workers (SIGSTOP of the server and its backends, for
/// <c>OPTRUNS_FAULTS_PAUSE_SECONDS</c>, default 10): connections stay open and nothing answers, the case no connection
/// error reports. Callers wait a bounded time, then 503 with Retry-After; the silo piles up neither threads nor memory;
/// after SIGCONT writes resume by themselves and every acknowledged sample is stored exactly once.
/// </summary>
[Trait("Category", "Faults")]
[Collection(ProcessFaults.Name)]
public sealed class DatabasePauseTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Writers = 8;
    private static readonly TimeSpan LongestWaitAllowed = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ResumeWithin = TimeSpan.FromSeconds(5);
    private OutageSystem _system = null!;

    private static TimeSpan PauseFor =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("OPTRUNS_FAULTS_PAUSE_SECONDS"), out var s) ? s : 10);

    public async Task InitializeAsync() => _system = await OutageSystem.StartAsync();

    public async Task DisposeAsync()
    {
        // A failed test must not leave a frozen server behind for the disposal to wait on.
        await _system.Database.ResumeAsync();
        await _system.DisposeAsync();
    }

    [Fact]
    public async Task APausedDatabaseAnswers503WithinBoundsThenWritesResumeWithNothingAcknowledgedLost()
    {
        using var admin = _system.Client(OutageSystem.AdminKey);
        var projectId = (await (await admin.PostAsJsonAsync("/api/projects", new { name = "pause" })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        var key = (await (await admin.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "k" })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        using var client = _system.Client(key);
        var writers = new List<SampleWriter>();
        for (var i = 0; i < Writers; i++)
        {
            writers.Add(new SampleWriter(client, await client.CreateRunWhenReadyAsync()));
        }

        using var stopWriting = new CancellationTokenSource();
        var writing = writers.Select(w => Task.Run(() => w.RunAsync(stopWriting.Token))).ToList();
        await UntilAsync(() => writers.All(w => w.Batches >= 3), "every writer had batches acknowledged before the pause", TimeSpan.FromSeconds(60));
        var before = SiloProcess.Read(_system.Silo.Id);

        await _system.Database.PauseAsync();
        var paused = Stopwatch.StartNew();
        var during = new List<SiloProcess>();
        var probes = new List<string>();
        while (paused.Elapsed < PauseFor)
        {
            var watch = Stopwatch.StartNew();
            using var list = await client.GetAsync("/api/optimization/runs");
            probes.Add($"{(int)list.StatusCode} in {watch.ElapsedMilliseconds} ms");
            Assert.True(watch.Elapsed < LongestWaitAllowed, $"GET run list took {watch.Elapsed.TotalSeconds:0.0} s while the database was paused");
            Assert.True(list.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"GET run list: {(int)list.StatusCode}");
            during.Add(SiloProcess.Read(_system.Silo.Id));
            await Task.Delay(500);
        }

        var unavailableDuringPause = writers.Sum(w => w.Unavailable);
        await _system.Database.ResumeAsync();
        var resumedAt = Stopwatch.GetTimestamp();
        await UntilAsync(() => writers.All(w => w.FirstAcknowledgedAfter(resumedAt) is not null), "every writer had a batch acknowledged after the resume",
            TimeSpan.FromSeconds(30));
        var resumed = writers.Max(w => Stopwatch.GetElapsedTime(resumedAt, w.FirstAcknowledgedAfter(resumedAt)!.Value));
        await UntilAsync(() => writers.All(w => w.Batches >= 3 + w.Acknowledged.Count / SampleWriter.BatchSize / 2), "writers went on", TimeSpan.FromSeconds(30));
        await stopWriting.CancelAsync();
        await Task.WhenAll(writing).WaitAsync(TimeSpan.FromSeconds(60));
        var after = SiloProcess.Read(_system.Silo.Id);

        var longest = writers.Max(w => w.LongestWait);
        output.WriteLine($"paused {PauseFor.TotalSeconds:0} s: run list probes {string.Join(", ", probes)}");
        output.WriteLine($"{unavailableDuringPause} answers 503 during the pause, longest wait {longest.TotalSeconds:0.00} s, "
            + $"every writer acknowledged again {resumed.TotalSeconds:0.00} s after SIGCONT");
        output.WriteLine($"silo threads {before.Threads} before, at most {during.Max(p => p.Threads)} during, {after.Threads} after; "
            + $"RSS {before.RssMb} MB before, at most {during.Max(p => p.RssMb)} MB during, {after.RssMb} MB after");
        Assert.All(writers, w => Assert.True(w.Unexpected.Count == 0, $"run {w.RunId}:\n{string.Join('\n', w.Unexpected.Take(5))}"));
        Assert.True(unavailableDuringPause > 0, "no writer was answered 503 during the pause");
        Assert.True(longest < LongestWaitAllowed, $"a request waited {longest.TotalSeconds:0.0} s for its answer");
        Assert.True(resumed < ResumeWithin, $"writes resumed only {resumed.TotalSeconds:0.0} s after SIGCONT");
        // Waiting callers are async continuations, not blocked threads: the pool may grow a little, never per caller.
        Assert.True(during.Max(p => p.Threads) <= before.Threads + 20, $"silo threads grew from {before.Threads} to {during.Max(p => p.Threads)}");
        Assert.True(during.Max(p => p.RssMb) <= before.RssMb + 150, $"silo RSS grew from {before.RssMb} MB to {during.Max(p => p.RssMb)} MB");

        await using var database = await _system.Database.OpenOwnerAsync();
        foreach (var writer in writers)
        {
            var stored = (await database.QueryAsync<(int Iteration, int SampleIndex)>(
                "SELECT iteration, sample_index FROM optimization_samples WHERE run_id = @RunId", new { writer.RunId })).ToList();
            Assert.Equal(writer.Acknowledged.Count, stored.Count);
            Assert.Equal(writer.Acknowledged.ToHashSet(), stored.ToHashSet());
            Assert.Equal(stored.Count, (await client.GetRunAsync(writer.RunId)).GetProperty("samplesEvaluated").GetInt32());
        }
    }

    private async Task UntilAsync(Func<bool> condition, string what, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < within, $"timed out waiting until {what}\n{_system.Output[^Math.Min(_system.Output.Length, 6000)..]}");
            await Task.Delay(50);
        }
    }
}

/// <summary>A process's thread count and resident memory, from /proc.</summary>
public sealed record SiloProcess(int Threads, long RssMb)
{
    public static SiloProcess Read(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        long Field(string name) => long.Parse(status.First(l => l.StartsWith(name + ":")).Split(':')[1].Trim().Split(' ')[0]);
        return new SiloProcess((int)Field("Threads"), Field("VmRSS") / 1024);
    }
}
