using System.Text.Json;
using Dapper;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// Each named query of the API uses the index built for it, on a realistically sized data set (EXPLAIN,
/// ordinary planner settings), so the indexes are not decoration. Where the index also gives the order
/// (keyset lists, leaderboard, sample pages) the plan must not sort.
/// </summary>
public sealed class IndexUsageTests(IndexUsageDatabase data) : IClassFixture<IndexUsageDatabase>
{
    private const string Runs = "SELECT * FROM optimization_runs WHERE project_id = @project";
    private const string Newest = "ORDER BY created_at DESC, id DESC LIMIT 50";

    // pattern, SQL (@project, @run, @traceId, @keyHash, @q), the index it must use (or |-separated equivalents),
    // whether the index gives the order.
    public static TheoryData<string, string, string, bool> Patterns => new()
    {
        { "list by created_at", $"{Runs} {Newest}", "optimization_runs_project_created_idx", true },
        { "list page after a cursor", $"{Runs} AND (created_at, id) < (now() - interval '30 days', @run) {Newest}", "optimization_runs_project_created_idx", true },
        { "status filter", $"{Runs} AND status = 'running' {Newest}", "optimization_runs_project_status_created_idx", true },
        { "optimizer filter", $"{Runs} AND optimizer_type = 'gepa' {Newest}", "optimization_runs_project_optimizer_created_idx", true },
        { "leaderboard", $"{Runs} AND status = 'completed' ORDER BY final_score DESC NULLS LAST, id DESC LIMIT 10", "optimization_runs_leaderboard_idx", true },
        { "leaderboard via top_runs()", "SELECT * FROM top_runs(NULL, 10)", "optimization_runs_leaderboard_idx", true },
        { "sort -bestScore", $"{Runs} ORDER BY best_score DESC NULLS LAST, id DESC LIMIT 50", "optimization_runs_project_best_idx", true },
        { "sort -improvement", $"{Runs} ORDER BY improvement DESC NULLS LAST, id DESC LIMIT 50", "optimization_runs_project_improvement_idx", true },
        { "config containment", $$"""{{Runs}} AND config @> '{"seed": 7, "num_trials": 17}' {{Newest}}""", "optimization_runs_config_gin", false },
        { "metadata containment", $$"""{{Runs}} AND metadata @> '{"git_sha": "c4ca423"}' {{Newest}}""", "optimization_runs_metadata_gin", false },
        { "tags containment", $"{Runs} AND tags @> ARRAY['prod'] {Newest}", "optimization_runs_tags_gin", false },
        { "q name search", $"{Runs} AND run_name ILIKE '%' || @q || '%' {Newest}", "optimization_runs_name_trgm", false },
        // Migration 0004 dropped optimization_runs_active_idx: the live runs of a project are a status filter.
        { "running runs of a project", $"{Runs} AND status = 'running' {Newest}", "optimization_runs_project_status_created_idx", true },
        // The samples' foreign-key target (run_id, iteration, project_id) leads with the same columns as the
        // primary key, so the planner picks either at equal cost; both serve this read.
        { "iterations of a run", "SELECT * FROM optimization_iterations WHERE run_id = @run ORDER BY iteration", "optimization_iterations_pk|optimization_iterations_project_uq", false },
        { "best iteration", "SELECT * FROM optimization_iterations WHERE run_id = @run AND is_best", "optimization_iterations_best_idx", false },
        { "samples page keyset", "SELECT * FROM optimization_samples WHERE run_id = @run AND (iteration, sample_index) > (3, 40) ORDER BY iteration, sample_index LIMIT 100", "optimization_samples_pk", true },
        { "samples by trace id", "SELECT * FROM optimization_samples WHERE trace_id = @traceId", "optimization_samples_trace_idx", false },
        { "api key by hash", "SELECT id, project_id FROM project_api_keys WHERE key_hash = @keyHash AND revoked_at IS NULL", "project_api_keys_key_hash_uq", false },
        { "analytics view read", "SELECT * FROM optimization_run_analytics WHERE project_id = @project ORDER BY optimizer_type", "optimization_run_analytics_uq", false },
    };

    [Theory]
    [MemberData(nameof(Patterns))]
    public async Task NamedQueryUsesItsIndex(string pattern, string sql, string index, bool orderedByIndex)
    {
        await using var connection = await data.Database.OpenOwnerAsync();
        // top_runs() reads the caller's project as the service would have set it.
        await connection.ExecuteAsync("SELECT set_config('app.project_id', @project, false)", new { project = data.ProjectId.ToString() });

        var json = await connection.QuerySingleAsync<string>($"EXPLAIN (FORMAT JSON) {sql}",
            new { project = data.ProjectId, run = data.RunId, traceId = data.TraceId, keyHash = data.KeyHash, q = "hotpotqa-gepa" });

        var nodes = PlanNodes(JsonDocument.Parse(json).RootElement).ToList();
        var indexes = nodes.Where(n => n.TryGetProperty("Index Name", out _)).Select(n => n.GetProperty("Index Name").GetString()).ToList();
        Assert.True(index.Split('|').Any(indexes.Contains), $"{pattern}: expected {index}, plan uses [{string.Join(", ", indexes)}]:\n{json}");
        if (orderedByIndex)
        {
            Assert.False(nodes.Any(n => n.GetProperty("Node Type").GetString() is "Sort" or "Incremental Sort"),
                $"{pattern}: the index should give the order, but the plan sorts:\n{json}");
        }
    }

    /// <summary>Every plan node of an EXPLAIN (FORMAT JSON) document, depth first.</summary>
    private static IEnumerable<JsonElement> PlanNodes(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            return element.EnumerateArray().SelectMany(PlanNodes);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        var self = element.TryGetProperty("Node Type", out _) ? [element] : Enumerable.Empty<JsonElement>();
        var children = element.EnumerateObject()
            .Where(p => p.Name is "Plan" or "Plans")
            .SelectMany(p => PlanNodes(p.Value));
        return self.Concat(children);
    }
}
