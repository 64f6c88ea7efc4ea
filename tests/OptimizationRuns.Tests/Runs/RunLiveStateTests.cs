using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>Live state survives deactivation and moves between silos; the event stream replays and goes live.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RunLiveStateTests(ClusterFixture fixture)
{
    private static async Task<IRunGrain> RunWithLiveStateAsync(IClusterClient client)
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(client);
        await grain.ReportProgressAsync(new RunProgress("searching", CurrentIteration: 4, TotalIterations: 18, Message: "trial 4/18"));
        await grain.RecordIterationAsync(new IterationRecord(0, IterationKind.Baseline, 0.41m));
        await grain.RecordSamplesAsync(Enumerable.Range(0, 20).Select(i => RunScenario.Sample(1, i, latencyMs: 100 + i * 10)).ToList());
        return grain;
    }

    private static void AssertSameLiveState(RunSnapshot before, RunSnapshot after)
    {
        Assert.Equal(before.Phase, after.Phase);
        Assert.Equal(before.Message, after.Message);
        Assert.Equal(before.LastHeartbeatAt, after.LastHeartbeatAt);
        // Ids keep rising across activations (RunEventLog.FirstIdAfter); they need not continue one by one.
        Assert.True(after.LastEventId >= before.LastEventId, $"event ids went back from {before.LastEventId} to {after.LastEventId}");
        Assert.Equal(before.P50LatencyMs, after.P50LatencyMs);
        Assert.Equal(before.P95LatencyMs, after.P95LatencyMs);
        Assert.Equal(before.BestScore, after.BestScore);
        Assert.Equal(before.CurrentIteration, after.CurrentIteration);
        Assert.Equal(before.SamplesEvaluated, after.SamplesEvaluated);
        Assert.Equal(before.Status, after.Status);
    }

    [Fact]
    public async Task DeactivationAndReactivationKeepTheLiveState()
    {
        var grain = await RunWithLiveStateAsync(fixture.Client);
        var before = (await grain.GetAsync())!;
        Assert.Equal("searching", before.Phase);
        Assert.NotNull(before.P95LatencyMs);

        await fixture.Cluster.DeactivateAsync(grain);
        var after = (await grain.GetAsync())!;

        AssertSameLiveState(before, after);
    }

    [Fact]
    public async Task ARetryAfterReactivationIsStillADuplicate()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var batch = Enumerable.Range(0, 30).Select(i => RunScenario.Sample(2, i)).ToList();
        await grain.RecordSamplesAsync(batch);
        await grain.RecordIterationAsync(new IterationRecord(2, IterationKind.Full, 0.5m));

        await fixture.Cluster.DeactivateAsync(grain);
        var retried = await grain.RecordSamplesAsync(batch);
        var iteration = await grain.RecordIterationAsync(new IterationRecord(2, IterationKind.Full, 0.5m));

        Assert.Equal(new SampleBatchResult(30, 0, 30), retried);
        Assert.Equal(IterationOutcome.Duplicate, iteration);
        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal(30, stored.SampleRows);
        Assert.Equal(30, stored.SamplesEvaluated);
        Assert.Equal(30, (await grain.GetAsync())!.SamplesEvaluated);
    }

    [Fact]
    public async Task MovingToAnotherSiloKeepsTheLiveState()
    {
        var grain = await RunWithLiveStateAsync(fixture.Client);
        var before = (await grain.GetAsync())!;
        var here = await fixture.HostOfAsync(grain);
        var there = fixture.Cluster.Silos.Select(s => s.SiloAddress).First(s => !s.Equals(here));

        await fixture.Cluster.MigrateAsync(grain, there);
        var after = (await grain.GetAsync())!;

        Assert.Equal(there, await fixture.HostOfAsync(grain));
        AssertSameLiveState(before, after);
    }

    [Fact]
    public async Task TheEventStreamReplaysInOrderAndEndsWithTheRun()
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.ReportProgressAsync(new RunProgress("bootstrapping"));
        await grain.RecordIterationAsync(new IterationRecord(0, IterationKind.Baseline, 0.40m));
        await grain.RecordIterationAsync(new IterationRecord(1, IterationKind.Minibatch, 0.90m));
        await grain.RecordIterationAsync(new IterationRecord(2, IterationKind.Full, 0.50m));
        await grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.5m));

        var events = new List<RunEvent>();
        await foreach (var e in grain.WatchAsync(0).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token))
        {
            events.Add(e);
        }

        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.Equal(
            [RunEventKind.Status, RunEventKind.Progress, RunEventKind.Iteration, RunEventKind.BestScore,
             RunEventKind.Iteration, RunEventKind.Iteration, RunEventKind.BestScore, RunEventKind.Status],
            events.Select(e => e.Kind));
        // A minibatch never moves the best score: the two best-score events are the baseline's and the full's.
        Assert.Contains("0.4", events[3].PayloadJson);
        Assert.Contains("0.5", events[6].PayloadJson);

        var resumed = new List<RunEvent>();
        await foreach (var e in grain.WatchAsync(events[4].Id))
        {
            resumed.Add(e);
        }

        Assert.Equal(events.Skip(5).Select(e => e.Id), resumed.Select(e => e.Id));
    }

    [Fact]
    public async Task AReportThatChangesNothingPublishesNoEvent()
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.ReportProgressAsync(new RunProgress("searching", CurrentIteration: 3, Message: "trial 3"));
        for (var i = 0; i < 5; i++)
        {
            await grain.ReportProgressAsync(new RunProgress());
            await grain.ReportProgressAsync(new RunProgress("searching", CurrentIteration: 3, Message: "trial 3"));
            await grain.ReportProgressAsync(new RunProgress(CurrentIteration: 2));
        }

        var heartbeat = (await grain.ReportProgressAsync(new RunProgress())).LastHeartbeatAt;
        await grain.ReportProgressAsync(new RunProgress(Message: "trial 4"));
        await grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.5m));

        var events = new List<RunEvent>();
        await foreach (var e in grain.WatchAsync(0).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token))
        {
            events.Add(e);
        }

        Assert.Equal([RunEventKind.Status, RunEventKind.Progress, RunEventKind.Progress, RunEventKind.Status], events.Select(e => e.Kind));
        Assert.Contains("trial 4", events[2].PayloadJson);
        // Still a sign of life.
        Assert.True((await grain.GetAsync())!.LastHeartbeatAt >= heartbeat);
    }

    [Fact]
    public async Task AWatcherSeesEventsAsTheyHappen()
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var start = (await grain.GetAsync())!.LastEventId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watching = Task.Run(async () =>
        {
            var seen = new List<RunEvent>();
            await foreach (var e in grain.WatchAsync(start).WithCancellation(timeout.Token))
            {
                seen.Add(e);
            }

            return seen;
        });

        await Task.Delay(300);
        await grain.RecordIterationAsync(new IterationRecord(0, IterationKind.Baseline, 0.3m));
        await grain.TransitionAsync(new RunTransition(RunStatus.Failed, ErrorMessage: "worker crashed"));

        var seen = await watching;
        Assert.Equal([RunEventKind.Iteration, RunEventKind.BestScore, RunEventKind.Status], seen.Select(e => e.Kind));
    }
}
