namespace OptimizationRuns.Gateway.Dashboard;

/// <summary>The dashboard's settings (configuration section <c>Dashboard</c>, e.g. <c>Dashboard__TraceUrlTemplate</c>).</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>
    /// A link to a sample's trace, with <c>{traceId}</c> (and optionally <c>{spanId}</c>) in it, e.g. Jaeger's
    /// <c>http://localhost:16686/trace/{traceId}</c>. Unset, trace ids are shown without a link.
    /// </summary>
    public string? TraceUrlTemplate { get; set; }

    /// <summary>
    /// Where the Data Protection keys that protect the session cookie are kept. Gateways that share one directory
    /// (a shared volume) accept each other's cookies. Unset, ASP.NET Core's default applies: <c>~/.aspnet/DataProtection-Keys</c>
    /// of the user the gateway runs as (in memory when it has no home), which gateways on other machines or containers
    /// do not see, so a cookie works only on the gateway that issued it (and, without a home, until it restarts).
    /// </summary>
    public string? KeysDirectory { get; set; }

    /// <summary>How long a sign-in lasts.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>The trace link of <paramref name="traceId"/>, or null when no template is set or the sample has no trace.</summary>
    public string? TraceUrl(string? traceId, string? spanId = null) =>
        TraceUrlTemplate is { Length: > 0 } template && traceId is { Length: > 0 }
            ? template.Replace("{traceId}", Uri.EscapeDataString(traceId)).Replace("{spanId}", Uri.EscapeDataString(spanId ?? ""))
            : null;
}
