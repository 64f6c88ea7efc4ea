using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>The ledger of what a run has committed, on its own: retries, kinds, totals and the run row it plans.</summary>
public sealed class RunLedgerTests
{
    private static readonly RunSnapshot Pending = new()
    {
        Id = Guid.NewGuid(), ProjectId = Guid.NewGuid(), RunName = "r", OptimizerType = OptimizerType.Miprov2,
        Status = RunStatus.Pending, ConfigJson = "{}", MetadataJson = "{}", Tags = [], CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    private static SampleRecord Sample(int iteration, int index, bool success = true, double latency = 100) =>
        new(iteration, index, Success: success, LatencyMs: latency, PromptTokens: 10, CompletionTokens: 2, CostUsd: 0.5m);

    private static RunLedger Committed(params PendingWrite[] writes)
    {
        var ledger = new RunLedger();
        ledger.Load([], []);
        foreach (var write in writes)
        {
            ledger.Reserve(write);
        }

        ledger.Apply(ledger.Plan(writes, Pending, null), writes);
        return ledger;
    }

    [Fact]
    public void RepeatedSamplesAreDuplicatesWhetherCommittedQueuedOrInTheSameBatch()
    {
        var ledger = Committed(new SampleWrite([Sample(0, 0)]));
        var queued = new SampleWrite([Sample(0, 1)]);
        ledger.Reserve(queued);

        var fresh = ledger.Fresh([Sample(0, 0), Sample(0, 1), Sample(0, 2), Sample(0, 2)], out var waits);

        Assert.Equal([Sample(0, 2)], fresh);
        Assert.True(waits);
    }

    [Fact]
    public void ACompletionWithoutAKindKeepsTheRecordedKind()
    {
        var ledger = Committed(new IterationWrite(new IterationRecord(0, IterationKind.Baseline)));

        var (outcome, resolved, _) = ledger.Judge(new IterationRecord(0, null, 0.41m));
        var (newOutcome, newResolved, _) = ledger.Judge(new IterationRecord(1, null, 0.5m));

        Assert.Equal(IterationOutcome.Updated, outcome);
        Assert.Equal(IterationKind.Baseline, resolved.Kind);
        Assert.Equal(IterationOutcome.Inserted, newOutcome);
        Assert.Equal(IterationKind.Minibatch, newResolved.Kind);
    }

    [Fact]
    public void AScoredIterationCannotChangeItsScore()
    {
        var ledger = Committed(new IterationWrite(new IterationRecord(3, IterationKind.Full, 0.6m)));

        Assert.Equal(IterationOutcome.Duplicate, ledger.Judge(new IterationRecord(3, null, 0.6m)).Outcome);
        Assert.Throws<RunConflictException>(() => ledger.Judge(new IterationRecord(3, IterationKind.Full, 0.7m)));
    }

    [Fact]
    public void APlanCountsExactTotalsWakesThePendingRunAndAppliesPatchesInOrder()
    {
        var ledger = Committed(new SampleWrite([Sample(0, 0), Sample(0, 1, success: false)]));
        var writes = new PendingWrite[]
        {
            new RunWrite { Update = new RunUpdate(RunName: "first", TotalIterations: 30) },
            new SampleWrite([Sample(1, 0, latency: 300)]),
            new RunWrite { Update = new RunUpdate(TotalIterations: 12) },
        };

        var batch = ledger.Plan(writes, Pending, DateTimeOffset.UnixEpoch);

        Assert.Equal(3, batch.Run.SamplesEvaluated);
        Assert.Equal(1, batch.Run.SamplesFailed);
        Assert.Equal(1.5m, batch.Run.CostUsd);
        Assert.Equal(RunStatus.Running, batch.Run.Status);
        Assert.Equal("first write", batch.StatusReason);
        Assert.Equal("first", batch.Run.RunName);
        Assert.Equal(12, batch.Run.TotalIterations);
        Assert.True(batch.PatchesRun);
        Assert.Equal([1], batch.SampleIterations);
        Assert.Equal(1, batch.IterationTotals[1].Evaluated);
        // Planning commits nothing: the ledger changes only when the batch is applied.
        Assert.Equal(2, ledger.RunTotals.Evaluated);
        ledger.Apply(batch, writes);
        Assert.Equal(3, ledger.RunTotals.Evaluated);
    }

    [Fact]
    public void ReleasedReservationsAreFreeAgain()
    {
        var ledger = Committed();
        var write = new SampleWrite([Sample(0, 0)]);
        ledger.Reserve(write);

        ledger.Release([write]);

        Assert.Single(ledger.Fresh([Sample(0, 0)], out var waits));
        Assert.False(waits);
    }

    [Fact]
    public void AStallOnlyStopsARunningRunAndAWriteAfterItResumesIt()
    {
        var ledger = Committed();
        var running = Pending with { Status = RunStatus.Running };
        var stall = new RunWrite { Transition = new RunTransition(RunStatus.Stalled), Reason = "no heartbeat" };

        Assert.Equal(RunStatus.Stalled, ledger.Plan([stall], running, null).Run.Status);
        var resumed = ledger.Plan([stall, new SampleWrite([Sample(0, 0)])], running, null);
        Assert.Equal(RunStatus.Running, resumed.Run.Status);
        Assert.Equal("write resumed", resumed.StatusReason);
    }
}
