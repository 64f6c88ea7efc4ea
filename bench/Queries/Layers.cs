using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Projects;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Bench.Queries;

/// <summary>
/// One way to answer a <see cref="Call"/>. From the top: the gateway over HTTP (auth grain, query or run grain,
/// JSON), an Orleans client calling the same grains (no HTTP, no auth), the silo's data classes in-process (the
/// service role's transaction under row-level security, Dapper mapping), and plain SQL as the owner (one statement,
/// no transaction, no RLS). The differences between neighbours are what each hop costs.
/// </summary>
public abstract class Layer(string name)
{
    public string Name { get; } = name;

    /// <summary>Whether the layer has a meaningful answer to the pattern.</summary>
    public virtual bool Supports(string pattern) => Scenario.Patterns.Any(p => p.Name == pattern) || pattern == "run_iterations_warm";

    /// <summary>Whether a read of a run activates its grain (so cold reads need runs of their own).</summary>
    public virtual bool TouchesRunGrains => false;

    /// <summary>Answers the call; returns the number of rows or items read, as a sanity check.</summary>
    public abstract Task<int> RunAsync(Call call, CancellationToken cancellationToken);
}

/// <summary>The REST gateway: one <see cref="HttpClient"/>, keep-alive, a project key per request.</summary>
public sealed class HttpLayer(string name, HttpClient http, IReadOnlyList<string> keys) : Layer(name)
{
    public override bool TouchesRunGrains => true;

    public override bool Supports(string pattern) => base.Supports(pattern) || pattern == "http_floor";

    public override async Task<int> RunAsync(Call call, CancellationToken cancellationToken)
    {
        switch (call.Pattern)
        {
            case "run_iterations" or "run_iterations_warm":
                var run = await GetAsync($"/api/optimization/runs/{call.RunId}", call.Project, cancellationToken);
                var iterations = await GetAsync($"/api/optimization/runs/{call.RunId}/iterations", call.Project, cancellationToken);
                return run + iterations;
            case "http_floor":
                return await GetAsync("/health/live", null, cancellationToken);
            default:
                return await GetAsync(Path(call), call.Project, cancellationToken);
        }
    }

    /// <summary>The URL of a call (the one of its first request).</summary>
    public static string Path(Call call) => call.Pattern switch
    {
        "list_page" => "/api/optimization/runs?limit=20",
        "status_filter" => $"/api/optimization/runs?status={call.Status}&limit=20",
        "optimizer_filter" => $"/api/optimization/runs?optimizerType={call.OptimizerType}&limit=20",
        "tag_filter" => "/api/optimization/runs?" + string.Concat(call.Tags!.Select(t => "tag=" + Uri.EscapeDataString(t) + "&")) + "limit=20",
        "config_search" => "/api/optimization/runs?config=" + Uri.EscapeDataString(call.ConfigJson!) + "&limit=20",
        "leaderboard" => "/api/optimization/leaderboard?limit=10" + (call.OptimizerType is { } o ? "&optimizerType=" + o : ""),
        "samples_page" => $"/api/optimization/runs/{call.RunId}/samples?iteration={call.Iteration}&limit=100",
        "analytics" => "/api/optimization/analytics",
        "live_snapshot" or "run_iterations" or "run_iterations_warm" => $"/api/optimization/runs/{call.RunId}",
        _ => throw new ArgumentOutOfRangeException(nameof(call), call.Pattern, "No URL for this pattern."),
    };

    private async Task<int> GetAsync(string path, int? project, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (project is { } p)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[p]);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"GET {path} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}",
                null, response.StatusCode);
        }

        return body.Length;
    }
}

/// <summary>An Orleans client calling the grains the gateway calls: the grain hop without HTTP, JSON or auth.</summary>
public sealed class GrainLayer(IClusterClient cluster, IReadOnlyList<Guid> projects, IReadOnlyList<string> keys) : Layer("grain")
{
    private readonly byte[][] _keyHashes = keys.Select(ApiKeys.Hash).ToArray();

    public override bool TouchesRunGrains => true;

    public override bool Supports(string pattern) => base.Supports(pattern) || pattern == "auth_hop";

    public override async Task<int> RunAsync(Call call, CancellationToken cancellationToken)
    {
        var projectId = projects[call.Project];
        var queries = cluster.GetGrain<IRunQueryGrain>(projectId);
        switch (call.Pattern)
        {
            case "run_iterations" or "run_iterations_warm":
            {
                var run = await cluster.GetGrain<IRunGrain>(call.RunId, projectId.ToString()).GetAsync(cancellationToken)
                    ?? throw new InvalidOperationException($"Run {call.RunId} not found.");
                var iterations = await queries.GetIterationsAsync(call.RunId, cancellationToken);
                return 1 + iterations.Count + (run.Id == call.RunId ? 0 : 1);
            }
            case "live_snapshot":
                return await cluster.GetGrain<IRunGrain>(call.RunId, projectId.ToString()).GetAsync(cancellationToken) is null ? 0 : 1;
            case "leaderboard":
                return (await queries.GetLeaderboardAsync(OptimizerOf(call), 10, cancellationToken)).Count;
            case "samples_page":
                return (await queries.GetSamplesAsync(new SampleQuery { RunId = call.RunId, Iteration = call.Iteration, Limit = 100 }, cancellationToken)).Items.Count;
            case "analytics":
                return (await queries.GetAnalyticsAsync(cancellationToken)).Count;
            case "auth_hop":
                return await cluster.GetGrain<IApiKeyGrain>(0).AuthenticateAsync(_keyHashes[call.Project], cancellationToken) is null ? 0 : 1;
            default:
                return (await queries.ListRunsAsync(ListQuery(call), cancellationToken)).Items.Count;
        }
    }

    /// <summary>The run list query the gateway builds for a call.</summary>
    public static RunListQuery ListQuery(Call call) => new()
    {
        Status = call.Status is { } s ? DomainNames.ParseName<RunStatus>(s) : null,
        OptimizerType = OptimizerOf(call),
        Tags = call.Tags,
        ConfigJson = call.ConfigJson,
        Limit = 20,
    };

    public static OptimizerType? OptimizerOf(Call call) =>
        call.OptimizerType is { } o ? DomainNames.ParseName<OptimizationRuns.Grains.Runs.OptimizerType>(o) : null;
}

/// <summary>
/// The silo's own data classes, in this process, over a service-role data source configured as the silo's: the
/// statements the query grain runs, in its transaction with the project set for row-level security.
/// </summary>
/// <remarks>Built by the silo's own registration (<see cref="DataServices.AddOptimizationRunsData"/>), so the data
/// source has the silo's settings (auto-prepare, no reset on close).</remarks>
public sealed class SiloDataLayer(IServiceProvider services, IReadOnlyList<Guid> projects) : Layer("silo_data")
{
    private readonly RunListQueries _runLists = services.GetRequiredService<RunListQueries>();
    private readonly IterationQueries _iterations = services.GetRequiredService<IterationQueries>();
    private readonly SampleQueries _samples = services.GetRequiredService<SampleQueries>();
    private readonly AnalyticsQueries _analytics = services.GetRequiredService<AnalyticsQueries>();
    private readonly RunStore _runs = services.GetRequiredService<RunStore>();

    public override bool Supports(string pattern) => base.Supports(pattern) || pattern == "activation_reads";

    public override async Task<int> RunAsync(Call call, CancellationToken cancellationToken)
    {
        var projectId = projects[call.Project];
        switch (call.Pattern)
        {
            case "activation_reads":
            {
                // What RunGrain.OnActivateAsync reads besides its Orleans grain state: the run row, then every
                // iteration and every sample's key and numbers (the in-memory dedupe and running totals).
                var run = await _runs.LoadAsync(projectId, call.RunId, cancellationToken);
                var (iterations, samples) = await _runs.LoadIngestStateAsync(projectId, call.RunId, cancellationToken);
                return (run is null ? 0 : 1) + iterations.Count + samples.Count;
            }
            case "run_iterations" or "run_iterations_warm":
            {
                // What a grain activation reads first, then the query grain's iterations.
                var run = await _runs.LoadAsync(projectId, call.RunId, cancellationToken);
                var iterations = await _iterations.ListAsync(projectId, call.RunId, cancellationToken);
                return (run is null ? 0 : 1) + (iterations?.Count ?? 0);
            }
            case "live_snapshot":
                return await _runs.LoadAsync(projectId, call.RunId, cancellationToken) is null ? 0 : 1;
            case "leaderboard":
                return (await _analytics.LeaderboardAsync(projectId, call.OptimizerType, 10, cancellationToken)).Count;
            case "samples_page":
                return (await _samples.PageAsync(projectId, new SampleQuery { RunId = call.RunId, Iteration = call.Iteration, Limit = 100 }, 101, cancellationToken))?.Count ?? 0;
            case "analytics":
                return (await _analytics.AnalyticsAsync(projectId, cancellationToken)).Count;
            default:
                return (await _runLists.ListAsync(projectId, GrainLayer.ListQuery(call), 21, cancellationToken)).Count;
        }
    }
}

/// <summary>
/// The same reads as plain SQL by the schema owner: one statement per read (two for run + iterations), the
/// project as a predicate instead of RLS, no transaction. The floor the layers above are compared with.
/// </summary>
public sealed class OwnerSqlLayer(NpgsqlDataSource owner, IReadOnlyList<Guid> projects) : Layer("sql")
{
    private const string RunSql = $"SELECT {RunListQueries.Columns} FROM optimization_runs WHERE id = @RunId";

    // top_runs() as the planner inlines it, with the project as a parameter rather than app_current_project().
    private const string LeaderboardSql = $"""
        SELECT {RunListQueries.Columns} FROM optimization_runs
        WHERE status = 'completed' AND final_score IS NOT NULL AND project_id = @ProjectId
          AND (@OptimizerType::text IS NULL OR optimizer_type = @OptimizerType)
        ORDER BY final_score DESC NULLS LAST, id DESC
        LIMIT @Limit
        """;

    private const string AnalyticsSql = """
        SELECT optimizer_type, total_runs, pending_runs, running_runs, stalled_runs, completed_runs, failed_runs,
            cancelled_runs, avg_final_score, max_final_score, avg_improvement, avg_improvement_pct, total_tokens,
            total_cost_usd, avg_duration_ms, samples_evaluated, last_run_at, refreshed_at
        FROM optimization_run_analytics WHERE project_id = @ProjectId ORDER BY optimizer_type
        """;

    public override async Task<int> RunAsync(Call call, CancellationToken cancellationToken)
    {
        var projectId = projects[call.Project];
        await using var connection = await owner.OpenConnectionAsync(cancellationToken);
        switch (call.Pattern)
        {
            case "run_iterations" or "run_iterations_warm":
                return await DrainAsync(connection, RunSql, new { call.RunId }, cancellationToken)
                    + await DrainAsync(connection, IterationQueries.IterationsSql, new { call.RunId }, cancellationToken);
            case "live_snapshot":
                return await DrainAsync(connection, RunSql, new { call.RunId }, cancellationToken);
            case "leaderboard":
                return await DrainAsync(connection, LeaderboardSql, new { ProjectId = projectId, call.OptimizerType, Limit = 10 }, cancellationToken);
            case "samples_page":
            {
                var (sql, parameters) = SampleQueries.PageStatement(new SampleQuery { RunId = call.RunId, Iteration = call.Iteration, Limit = 100 }, 101);
                return await DrainAsync(connection, sql, parameters, cancellationToken);
            }
            case "analytics":
                return await DrainAsync(connection, AnalyticsSql, new { ProjectId = projectId }, cancellationToken);
            default:
            {
                var (sql, parameters) = RunListQueries.Statement(projectId, GrainLayer.ListQuery(call), RunListQueries.Range.FromStart, 21);
                return await DrainAsync(connection, sql, parameters, cancellationToken);
            }
        }
    }

    // Reads every value of every row, so the rows cross the wire and are decoded as the layers above decode them.
    private static async Task<int> DrainAsync(NpgsqlConnection connection, string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var reader = (DbDataReader)await connection.ExecuteReaderAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        var rows = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                _ = reader.GetValue(i);
            }

            rows++;
        }

        return rows;
    }
}
