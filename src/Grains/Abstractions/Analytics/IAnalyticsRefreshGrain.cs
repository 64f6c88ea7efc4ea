namespace OptimizationRuns.Grains.Analytics;

/// <summary>
/// Keeps the analytics materialized view fresh: on a schedule (<c>Analytics:RefreshPeriod</c>) and on demand.
/// One activation in the cluster (key 0); concurrent requests share refreshes.
/// </summary>
public interface IAnalyticsRefreshGrain : IGrainWithIntegerKey
{
    /// <summary>Starts the schedule (idempotent); every silo calls it when it starts.</summary>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks for a refresh soon (<c>Analytics:RefreshAfterRunEnds</c>, default 5 s): a run ended, so the analytics changed.
    /// Requests within that time share one refresh.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task RequestRefreshAsync();

    /// <summary>Refreshes the view with every run committed before this call; returns when the refresh finished.</summary>
    Task<DateTimeOffset> RefreshAsync(CancellationToken cancellationToken = default);
}
