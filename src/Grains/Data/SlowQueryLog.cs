using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace OptimizationRuns.Grains.Data;

/// <summary>Configuration of the slow-statement log (<c>Database:SlowQueryThreshold</c>).</summary>
public sealed class SlowQueryLogOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "Database";

    /// <summary>A statement that takes at least this long is logged at Warning; zero turns the log off.</summary>
    public TimeSpan SlowQueryThreshold { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Logs every statement of our data source slower than <see cref="SlowQueryLogOptions.SlowQueryThreshold"/>: a short
/// name of the statement (its verb and first relation, never its parameters or text, which may hold user data), the
/// project it ran for, its duration and its trace id. It listens to Npgsql's own command spans, so it times exactly
/// what tracing times, whether or not traces are exported.
/// </summary>
public sealed partial class SlowQueryLog : IDisposable
{
    /// <summary>The span tag that carries the project a statement ran for.</summary>
    public const string ProjectTag = "optruns.project_id";

    // The project each open connection's transaction is scoped to; entries go with the connection object.
    private static readonly ConditionalWeakTable<NpgsqlConnection, object> Projects = new();

    private const string OwnerProperty = "optruns.slow_query_log";

    private static readonly string[] ReaderPrefixes = [ProjectReader.SetProjectSql, ProjectReader.SetProjectGenericPlansSql, ProjectReader.RunExistsSql];

    private readonly ActivityListener? _listener;
    private readonly ILogger _logger;
    private readonly TimeSpan _threshold;

    /// <summary>Starts listening when <paramref name="options"/> sets a threshold above zero.</summary>
    public SlowQueryLog(IOptions<SlowQueryLogOptions> options, ILogger<SlowQueryLog> logger)
    {
        _logger = logger;
        _threshold = options.Value.SlowQueryThreshold;
        if (_threshold <= TimeSpan.Zero)
        {
            return;
        }

        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            // AllData (not Recorded): Npgsql fills in the statement, but the span is exported only if tracing samples it.
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>
    /// Marks the command, batch and COPY spans of <paramref name="builder"/>'s data source as this log's, tagged with
    /// the project they run for; spans of other data sources in the process (tests host several) are not ours to log.
    /// </summary>
    public void Configure(NpgsqlDataSourceBuilder builder) =>
        builder.ConfigureTracing(tracing => tracing
            // A data source's own commands (dataSource.CreateCommand) refuse access to their connection and never run
            // in a project transaction: only plain commands and batches are asked for theirs.
            .ConfigureCommandEnrichmentCallback((activity, command) =>
                Mark(activity, command.GetType() == typeof(NpgsqlCommand) ? command.Connection : null))
            .ConfigureBatchEnrichmentCallback((activity, batch) =>
                Mark(activity, batch.GetType() == typeof(NpgsqlBatch) ? batch.Connection : null))
            .ConfigureCopyOperationEnrichmentCallback((activity, _) => Mark(activity, null)));

    /// <summary>Remembers that statements on <paramref name="connection"/> run for <paramref name="projectId"/>.</summary>
    public static void SetProject(NpgsqlConnection connection, Guid projectId) => Projects.AddOrUpdate(connection, projectId);

    /// <summary>
    /// A short name of <paramref name="sql"/>: its verb and the first relation or function it names, after what a
    /// <see cref="ProjectReader"/> puts before every statement (the project's setting, the run's visibility).
    /// </summary>
    public static string StatementName(string? sql)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            return "unknown";
        }

        foreach (var prefix in ReaderPrefixes)
        {
            if (sql.StartsWith(prefix, StringComparison.Ordinal) && sql.Length > prefix.Length)
            {
                sql = sql[prefix.Length..];
            }
        }

        var verb = Verb().Match(sql);
        var relation = Relation().Match(sql);
        if (!relation.Success)
        {
            relation = Function().Match(sql);
        }

        var name = verb.Success ? verb.Groups[1].Value.ToUpperInvariant() : "statement";
        return relation.Success ? $"{name} {relation.Groups[1].Value}" : name;
    }

    public void Dispose() => _listener?.Dispose();

    private void Mark(Activity activity, NpgsqlConnection? connection)
    {
        activity.SetCustomProperty(OwnerProperty, this);
        if (connection is not null && Projects.TryGetValue(connection, out var projectId))
        {
            activity.SetTag(ProjectTag, projectId);
        }
    }

    private void OnStopped(Activity activity)
    {
        if (activity.Duration < _threshold || !ReferenceEquals(activity.GetCustomProperty(OwnerProperty), this))
        {
            return;
        }

        var sql = activity.GetTagItem("db.query.text") ?? activity.GetTagItem("db.statement");
        LogSlow(StatementName(sql as string), activity.GetTagItem(ProjectTag)?.ToString() ?? "none",
            Math.Round(activity.Duration.TotalMilliseconds, 1), activity.TraceId.ToString());
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Slow statement {Statement} for project {ProjectId} took {DurationMs} ms (trace {TraceId})")]
    private partial void LogSlow(string statement, string projectId, double durationMs, string traceId);

    [GeneratedRegex(@"^\s*([A-Za-z]+)")]
    private static partial Regex Verb();

    [GeneratedRegex(@"\b(?:FROM|INTO|UPDATE|JOIN|TABLE|COPY)\s+(?!\()([A-Za-z_][A-Za-z0-9_.]*)", RegexOptions.IgnoreCase)]
    private static partial Regex Relation();

    // The first function called, past SQL's own constructs that look like one (ARRAY(…), EXISTS (…), COALESCE(…)).
    [GeneratedRegex(@"\b(?!(?:ARRAY|EXISTS|ANY|ALL|IN|ROW|VALUES|COALESCE|NULLIF|GREATEST|LEAST|CAST)\s*\()([A-Za-z_][A-Za-z0-9_.]*)\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex Function();
}
