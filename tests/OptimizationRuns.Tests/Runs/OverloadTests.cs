using Dapper;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>One silo whose runs buffer at most 500 samples.</summary>
public sealed class SmallBufferClusterFixture : ClusterFixture
{
    public const int Bound = 500;

    protected override short SiloCount => 1;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Runs:MaxBufferedSamples"] = Bound.ToString(),
        ["Runs:RetryAfter"] = "00:00:02",
    };
}

/// <summary>Runs alone, so the process's memory reflects this test's load only.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OverloadCollection : ICollectionFixture<SmallBufferClusterFixture>
{
    public const string Name = "overload";
}

/// <summary>When the database stalls, callers wait up to a bound and are then refused; memory stays flat.</summary>
[Collection(OverloadCollection.Name)]
public sealed class OverloadTests(SmallBufferClusterFixture fixture)
{
    private static List<SampleRecord> Batch(int batch) =>
        Enumerable.Range(0, 50).Select(k => RunScenario.Sample(1, batch * 50 + k)).ToList();

    [Fact]
    public async Task APausedDatabaseRefusesPastTheBoundAndKeepsEverythingAcknowledged()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.RecordSamplesAsync(Batch(0));

        // Pause the database for this table: inserts wait on the lock.
        await using var locker = await TestDatabase.OpenOwnerAsync();
        await using var pause = await locker.BeginTransactionAsync();
        await locker.ExecuteAsync("LOCK TABLE optimization_samples IN EXCLUSIVE MODE", transaction: pause);

        var calls = Enumerable.Range(1, 40).Select(b => grain.RecordSamplesAsync(Batch(b))).ToList();
        // Refused calls fail at once, accepted ones wait on the lock: wait until the refusals stop coming.
        var refused = new List<Task<SampleBatchResult>>();
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline;)
        {
            await Task.Delay(300);
            var now = calls.Where(c => c.IsFaulted).ToList();
            if (now.Count > 0 && now.Count == refused.Count)
            {
                break;
            }

            refused = now;
        }

        Assert.NotEmpty(refused);
        Assert.All(refused, c => Assert.IsType<RunOverloadedException>(c.Exception!.InnerException));
        Assert.Equal(TimeSpan.FromSeconds(2), ((RunOverloadedException)refused[0].Exception!.InnerException!).RetryAfter);
        Assert.InRange(calls.Count(c => !c.IsCompleted), 1, SmallBufferClusterFixture.Bound / 50);
        Assert.InRange((await grain.GetAsync())!.BufferedSamples, 50, SmallBufferClusterFixture.Bound);

        // Sustained overload: thousands of refused batches must not be kept anywhere.
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 2_000; i++)
        {
            await Assert.ThrowsAsync<RunOverloadedException>(() => grain.RecordSamplesAsync(Batch(1000 + i)));
        }

        var growth = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        Assert.True(growth < 20_000_000, $"memory grew by {growth:N0} bytes under refused load (2,000 batches ≈ 50 MB sent)");
        Assert.InRange((await grain.GetAsync())!.BufferedSamples, 50, SmallBufferClusterFixture.Bound);

        await pause.CommitAsync();
        var acknowledged = 0;
        foreach (var call in calls.Where(c => !c.IsFaulted))
        {
            acknowledged += (await call).Inserted;
        }

        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal(50 + acknowledged, stored.SampleRows);
        Assert.Equal(stored.SampleRows, stored.SamplesEvaluated);
        Assert.Equal(0, (await grain.GetAsync())!.BufferedSamples);
    }
}
