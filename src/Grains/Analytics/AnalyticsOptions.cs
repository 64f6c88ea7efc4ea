namespace OptimizationRuns.Grains.Analytics;

/// <summary>Tunables of the analytics view (configuration section <c>Analytics</c>).</summary>
public sealed class AnalyticsOptions
{
    /// <summary>How often the analytics materialized view is refreshed on schedule; zero turns the schedule off.</summary>
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How soon after a run ends the view is refreshed (runs ending within it share one refresh), so the analytics show
    /// a finished run without waiting for the schedule; zero turns this off.
    /// </summary>
    public TimeSpan RefreshAfterRunEnds { get; set; } = TimeSpan.FromSeconds(5);
}
