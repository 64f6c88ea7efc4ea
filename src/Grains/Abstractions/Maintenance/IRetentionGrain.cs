namespace OptimizationRuns.Grains.Maintenance;

/// <summary>
/// Retention: each project's policy (<c>retentionDays</c>), and the background purge that exports finished runs past
/// it to the configured directory and then deletes them, a bounded batch per pass. One activation (key 0).
/// </summary>
public interface IRetentionGrain : IGrainWithIntegerKey
{
    /// <summary>The project's retention in days; null keeps its runs forever. Throws <c>ProjectNotFoundException</c>.</summary>
    Task<int?> GetRetentionDaysAsync(Guid projectId, CancellationToken cancellationToken = default);

    /// <summary>Sets (or, with null, removes) the project's retention. Throws <c>ProjectNotFoundException</c>.</summary>
    Task SetRetentionDaysAsync(Guid projectId, int? retentionDays, CancellationToken cancellationToken = default);

    /// <summary>Registers the schedule (a reminder that keeps the grain and its timer alive); called at silo start.</summary>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>One purge pass now: at most one batch of expired runs exported and deleted; what it did.</summary>
    Task<RetentionPass> PurgeAsync(CancellationToken cancellationToken = default);
}

/// <summary>What one purge pass did.</summary>
/// <param name="Runs">Runs exported and deleted.</param>
/// <param name="Samples">Their samples.</param>
/// <param name="More">Whether more expired runs were waiting when the batch was full.</param>
[GenerateSerializer, Immutable, Alias("maintenance.RetentionPass")]
public sealed record RetentionPass([property: Id(0)] int Runs, [property: Id(1)] long Samples, [property: Id(2)] bool More);
