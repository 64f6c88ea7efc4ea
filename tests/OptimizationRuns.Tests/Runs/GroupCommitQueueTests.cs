using OptimizationRuns.Grains.Runs;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>The queue of a run's pending writes, on its own: order, bounds, answers.</summary>
public sealed class GroupCommitQueueTests
{
    private static SampleWrite Samples(int count) =>
        new(Enumerable.Range(0, count).Select(i => new SampleRecord(0, i)).ToList());

    [Fact]
    public void WritesAreTakenInArrivalOrderAndACommitHoldsAtMostItsSamples()
    {
        var queue = new GroupCommitQueue(maxBufferedSamples: 100);
        var writes = new PendingWrite[] { Samples(30), new IterationWrite(new IterationRecord(0, IterationKind.Minibatch)), Samples(30), Samples(30) };
        foreach (var write in writes)
        {
            Assert.True(queue.TryEnqueue(write));
        }

        Assert.Equal(writes[..3], queue.TakeCommit(maxSamples: 60));
        Assert.Equal(writes[3..], queue.TakeCommit(maxSamples: 60));
        Assert.Empty(queue.TakeCommit(maxSamples: 60));
    }

    [Fact]
    public void AWriteLargerThanACommitIsStillTakenAlone()
    {
        var queue = new GroupCommitQueue(maxBufferedSamples: 100);
        var big = Samples(80);
        queue.TryEnqueue(big);
        queue.TryEnqueue(Samples(1));

        Assert.Equal([big], queue.TakeCommit(maxSamples: 10));
    }

    [Fact]
    public void TheBufferRefusesSamplesPastItsBoundUntilWritesAreAnswered()
    {
        var queue = new GroupCommitQueue(maxBufferedSamples: 50);
        var first = Samples(40);
        Assert.True(queue.TryEnqueue(first));
        Assert.False(queue.TryEnqueue(Samples(20)));
        // A write without samples is never refused for space.
        Assert.True(queue.TryEnqueue(new RunWrite { Progress = new RunProgress("searching") }));

        var taken = queue.TakeCommit(maxSamples: 1_000);
        Assert.Equal(40, queue.BufferedSamples);   // in a commit under way: still buffered
        queue.Complete(taken);
        Assert.Equal(0, queue.BufferedSamples);
        Assert.True(queue.TryEnqueue(Samples(20)));
        Assert.True(first.Done.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task FailedWritesAreAnsweredWithTheError()
    {
        var queue = new GroupCommitQueue(maxBufferedSamples: 50);
        var write = Samples(5);
        queue.TryEnqueue(write);
        var error = new InvalidOperationException("refused");

        queue.Fail(queue.TakeAll(), error);

        Assert.Same(error, await Assert.ThrowsAsync<InvalidOperationException>(() => write.Done.Task));
        Assert.Equal(0, queue.BufferedSamples);
        Assert.Equal(0, queue.Count);
    }
}
