namespace OptimizationRuns.Grains.Analytics;

/// <summary>Tunables of the analytics view (configuration section <c>Analytics</c>).</summary>
public sealed class AnalyticsOptions
{
    /// <summary>How often the analytics materialized view is refreshed on schedule; zero turns the schedule off.</summary>
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromMinutes(5);
}
