namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// A run's writes waiting for the database, in arrival order: bounded by the samples it holds, taken a commit at a
/// time, and answered all together when their commit has succeeded or failed. Single-threaded: the grain's turns.
/// </summary>
public sealed class GroupCommitQueue(int maxBufferedSamples)
{
    private readonly Queue<PendingWrite> _waiting = new();

    /// <summary>Samples of writes not yet answered (waiting or in a commit under way).</summary>
    public int BufferedSamples { get; private set; }

    /// <summary>Writes not yet taken into a commit.</summary>
    public int Count => _waiting.Count;

    /// <summary>The writes not yet taken into a commit, oldest first.</summary>
    public IEnumerable<PendingWrite> Waiting => _waiting;

    /// <summary>Adds the write, unless its samples would overflow the buffer (then the caller is told to retry later).</summary>
    public bool TryEnqueue(PendingWrite write)
    {
        if (write.SampleCount > 0 && BufferedSamples + write.SampleCount > maxBufferedSamples)
        {
            return false;
        }

        _waiting.Enqueue(write);
        BufferedSamples += write.SampleCount;
        return true;
    }

    /// <summary>The oldest writes, as many as fit in one commit of <paramref name="maxSamples"/> (always at least one).</summary>
    public List<PendingWrite> TakeCommit(int maxSamples)
    {
        var writes = new List<PendingWrite>();
        var samples = 0;
        while (_waiting.TryPeek(out var next) && (writes.Count == 0 || samples + next.SampleCount <= maxSamples))
        {
            samples += next.SampleCount;
            writes.Add(_waiting.Dequeue());
        }

        return writes;
    }

    /// <summary>Every write not yet taken, removed from the queue (to fail them together).</summary>
    public List<PendingWrite> TakeAll()
    {
        var writes = _waiting.ToList();
        _waiting.Clear();
        return writes;
    }

    /// <summary>Answers the writes: committed.</summary>
    public void Complete(IEnumerable<PendingWrite> writes)
    {
        foreach (var write in writes)
        {
            BufferedSamples -= write.SampleCount;
            write.Done.TrySetResult();
        }
    }

    /// <summary>Answers the writes: not committed, because of <paramref name="error"/>.</summary>
    public void Fail(IEnumerable<PendingWrite> writes, Exception error)
    {
        foreach (var write in writes)
        {
            BufferedSamples -= write.SampleCount;
            write.Done.TrySetException(error);
        }
    }
}
