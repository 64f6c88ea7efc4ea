namespace OptimizationRuns.Gateway.Cluster;

/// <summary>
/// A deadline on every grain call the gateway makes (<c>Cluster:CallDeadline</c>, default <see cref="Default"/>): a call
/// still unanswered by then fails with <see cref="TimeoutException"/>, which the gateway answers 503 with Retry-After.
/// Orleans' own response timeout (30 s) would hold an HTTP request that long when the silo hosting the grain was killed
/// or the database under it is paused; a retry of any write is safe (a repeated sample batch counts as duplicates), so
/// answering early loses nothing. Streams (live events, exports) are left alone: each of their steps may wait for the
/// next event, and Orleans keeps them alive with heartbeats of its own.
/// </summary>
public sealed class CallDeadline(TimeSpan deadline) : IOutgoingGrainCallFilter
{
    /// <summary>The default deadline: under the 5 s a worker should ever wait for an answer.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(4);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IAsyncEnumerableGrainExtension))
        {
            await context.Invoke();
            return;
        }

        var call = context.Invoke();
        try
        {
            await call.WaitAsync(deadline);
        }
        catch (TimeoutException) when (!call.IsCompleted)
        {
            // The call's own outcome, when it comes, is nobody's to observe.
            _ = call.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
            throw new TimeoutException($"{context.InterfaceName}.{context.MethodName} did not answer within {deadline.TotalSeconds:0.#} s.");
        }
    }
}
