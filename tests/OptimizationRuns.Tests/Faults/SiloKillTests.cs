using System.Diagnostics;
using Dapper;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// A silo process killed with SIGKILL while workers write to runs on both silos over HTTP. Nothing acknowledged is
/// lost or stored twice, the dead silo's runs take writes on the survivor soon, and no request waits long for its
/// answer: a call that was in flight to the dead silo answers 503 with Retry-After instead of hanging.
/// <c>OPTRUNS_FAULTS_SECONDS</c> (default 8) is how long the workers write after the kill; bench/faults.sh sets more.
/// </summary>
[Trait("Category", "Faults")]
[Collection(ProcessFaults.Name)]
public sealed class SiloKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Runs = 16;
    private const int WritersPerRun = 2;
    private static readonly TimeSpan LongestWaitAllowed = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ResumeWithin = TimeSpan.FromSeconds(10);
    private SiloCluster _cluster = null!;

    private static TimeSpan WriteAfterKill =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("OPTRUNS_FAULTS_SECONDS"), out var s) ? s : 8);

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(silos: 2);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task AKilledSilosRunsMoveToTheSurvivorQuicklyWithNothingAcknowledgedLostOrStoredTwice()
    {
        using var client = await _cluster.ProjectClientAsync();
        var runs = await _cluster.RunsOnEverySiloAsync(client, perSilo: Runs / 2);
        var placement = await _cluster.PlacementAsync();
        var (victimPort, victimRuns) = placement.OrderByDescending(p => p.Value.Count).First();
        runs = [.. runs.Where(victimRuns.Contains).Take(Runs / 2), .. runs.Where(r => !victimRuns.Contains(r)).Take(Runs / 2)];
        var writers = runs.SelectMany(run => Enumerable.Range(0, WritersPerRun).Select(w => new SampleWriter(client, run, firstIteration: 1 + w * 100_000))).ToList();

        using var stopWriting = new CancellationTokenSource();
        var writing = writers.Select(w => Task.Run(() => w.RunAsync(stopWriting.Token))).ToList();
        await UntilAsync(() => writers.All(w => w.Batches >= 3), "every writer had batches acknowledged before the kill");

        var victim = _cluster.SiloOnPort(victimPort);
        var killedAt = Stopwatch.GetTimestamp();
        await SiloCluster.KillAsync(victim);
        output.WriteLine($"killed the silo on port {victimPort}, which hosted {victimRuns.Count(runs.Contains)} of the {runs.Count} runs");

        await UntilAsync(() => writers.All(w => w.FirstAcknowledgedAfter(killedAt) is not null), "every writer had a batch acknowledged after the kill",
            ResumeWithin + TimeSpan.FromSeconds(20), () => Describe(writers.Where(w => w.FirstAcknowledgedAfter(killedAt) is null)));
        var resumed = writers.Where(w => victimRuns.Contains(w.RunId))
            .Select(w => Stopwatch.GetElapsedTime(killedAt, w.FirstAcknowledgedAfter(killedAt)!.Value)).ToList();
        output.WriteLine($"the killed silo's runs took writes again after {resumed.Min().TotalSeconds:0.0}–{resumed.Max().TotalSeconds:0.0} s");
        await Task.Delay(WriteAfterKill);
        await stopWriting.CancelAsync();
        await Task.WhenAll(writing).WaitAsync(TimeSpan.FromSeconds(60));

        var longest = writers.Max(w => w.LongestWait);
        output.WriteLine($"{writers.Sum(w => w.Batches)} batches acknowledged by {writers.Count} writers, {writers.Sum(w => w.Unavailable)} answers 503, "
            + $"longest wait for an answer {longest.TotalSeconds:0.00} s");
        Assert.All(writers, w => Assert.True(w.Unexpected.Count == 0, $"run {w.RunId}:\n{string.Join('\n', w.Unexpected.Take(5))}\n{_cluster.Output}"));
        Assert.True(resumed.Max() < ResumeWithin, $"a killed silo's run took writes again only after {resumed.Max().TotalSeconds:0.0} s");
        Assert.True(longest < LongestWaitAllowed, $"a request waited {longest.TotalSeconds:0.0} s for its answer");

        await using var database = await TestDatabase.OpenOwnerAsync();
        foreach (var run in writers.GroupBy(w => w.RunId))
        {
            var acknowledged = run.SelectMany(w => w.Acknowledged).ToList();
            var stored = (await database.QueryAsync<(int Iteration, int SampleIndex)>(
                "SELECT iteration, sample_index FROM optimization_samples WHERE run_id = @RunId", new { RunId = run.Key })).ToList();
            Assert.Equal(acknowledged.Count, stored.Count);
            Assert.Equal(acknowledged.ToHashSet(), stored.ToHashSet());
            var view = await client.GetRunAsync(run.Key);
            Assert.Equal(stored.Count, view.GetProperty("samplesEvaluated").GetInt32());
        }
    }

    private static string Describe(IEnumerable<SampleWriter> writers) => string.Join('\n', writers.Select(w =>
        $"run {w.RunId}: {w.Batches} acknowledged, {w.Unavailable} answers 503, longest wait {w.LongestWait.TotalSeconds:0.0} s; {string.Join(" | ", w.Unexpected.TakeLast(2))}"));

    private async Task UntilAsync(Func<bool> condition, string what, TimeSpan? within = null, Func<string>? describe = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < (within ?? TimeSpan.FromSeconds(60)), $"timed out waiting until {what}\n{describe?.Invoke()}\n{_cluster.Output}");
            await Task.Delay(50);
        }
    }
}
