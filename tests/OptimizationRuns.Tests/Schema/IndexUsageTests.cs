using Dapper;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// Each named query of the API uses the index built for it, on a realistically sized data set (EXPLAIN, ordinary
/// planner settings), as the service role in a transaction with the project set, so row-level security applies as it
/// does in the silo and the indexes are not decoration. Where the index also gives the order (keyset lists,
/// leaderboard, sample pages) the plan must not sort. The SECURITY DEFINER functions plan their statements out of
/// EXPLAIN's sight: for them the server's count of this transaction's scans shows which index they read.
/// </summary>
public sealed class IndexUsageTests(IndexUsageDatabase data) : IClassFixture<IndexUsageDatabase>
{
    private const string Runs = "SELECT * FROM optimization_runs WHERE project_id = @project";
    private const string Newest = "ORDER BY created_at DESC, id DESC LIMIT 50";

    // pattern, SQL (@project, @run, @longRun, @traceId), the index it must use (or |-separated equivalents),
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
        // A search reads the few runs search_run_ids() found by their key (the function's own scan is below).
        { "runs a search found", $"{Runs} AND id = ANY(ARRAY(SELECT search_run_ids(ARRAY['prod'], NULL, NULL, NULL, 'created_at', 201))) AND tags @> ARRAY['prod'] {Newest}",
            "optimization_runs_pkey|optimization_runs_id_project_uq", false },
        // Migration 0004 dropped optimization_runs_active_idx: the live runs of a project are a status filter.
        { "running runs of a project", $"{Runs} AND status = 'running' {Newest}", "optimization_runs_project_status_created_idx", true },
        // The samples' foreign-key target (run_id, iteration, project_id) leads with the same columns as the
        // primary key, so the planner picks either at equal cost; both serve this read.
        { "iterations of a run", "SELECT * FROM optimization_iterations WHERE run_id = @run ORDER BY iteration", "optimization_iterations_pk|optimization_iterations_project_uq", false },
        // A run's trials, even 400 of them, are read along its key and tested: the params GIN lists that choice in
        // every run (the plan with it is far dearer; see ReadQueryPlanTests).
        { "iterations of a long run by params", """SELECT * FROM optimization_iterations WHERE run_id = @longRun AND params @> '{"predictors": {"0": {"instruction": 2}}}' ORDER BY iteration""",
            "optimization_iterations_pk|optimization_iterations_project_uq", false },
        { "best iteration", "SELECT * FROM optimization_iterations WHERE run_id = @run AND is_best", "optimization_iterations_best_idx", false },
        // Not asserted in order since migration 0014: this fixture's 100 runs share 16 partitions, so a run can be an
        // eighth of its partition, where reading its key range by bitmap and sorting 1,600 rows is costed cheaper (seen
        // on p00 in the full suite); at 600 k rows a partition, a run is a few per cent of it (bench/queries.sh, BENCHMARKS.md).
        { "samples page keyset", "SELECT * FROM optimization_samples WHERE run_id = @run AND (iteration, sample_index) > (3, 40) ORDER BY iteration, sample_index LIMIT 100", "optimization_samples_pk", false },
        { "samples by trace id", "SELECT * FROM optimization_samples WHERE trace_id = @traceId", "optimization_samples_trace_idx", false },
    };

    [Theory]
    [MemberData(nameof(Patterns))]
    public async Task NamedQueryUsesItsIndex(string pattern, string sql, string index, bool orderedByIndex)
    {
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);

        var plan = await service.ExplainAsync(sql, new { project = data.ProjectId, run = data.RunId, longRun = data.LongRunId, traceId = data.TraceId });

        Assert.True(plan.Uses(index), $"{pattern}: expected {index}, plan uses {plan}");
        Assert.Empty(plan.SequentialScans);
        if (orderedByIndex)
        {
            Assert.False(plan.Sorts, $"{pattern}: the index should give the order, but the plan sorts:\n{plan.Json}");
        }
    }

    // pattern, a call of a SECURITY DEFINER function, the index its statement must read, the table it must not scan.
    public static TheoryData<string, string, string, string> FunctionPatterns => new()
    {
        { "tags containment", "SELECT count(*) FROM search_run_ids(ARRAY['prod'], NULL, NULL, NULL, 'created_at', 201)", "optimization_runs_tags_gin", "optimization_runs" },
        { "a common tag with a rare one", "SELECT count(*) FROM search_run_ids(ARRAY['qa', 'prod'], NULL, NULL, NULL, 'created_at', 201)", "optimization_runs_tags_gin", "optimization_runs" },
        { "config containment", $$"""SELECT count(*) FROM search_run_ids(NULL, '{"seed": 7, "num_trials": 17}', NULL, NULL, 'created_at', 201)""", "optimization_runs_config_gin", "optimization_runs" },
        { "metadata containment", $$"""SELECT count(*) FROM search_run_ids(NULL, NULL, '{"git_sha": "eccbc87"}', NULL, 'final_score', 201)""", "optimization_runs_metadata_gin", "optimization_runs" },
        { "q name search", "SELECT count(*) FROM search_run_ids(NULL, NULL, NULL, '%hotpotqa-gepa%', 'best_score', 201)", "optimization_runs_name_trgm", "optimization_runs" },
        { "api key by hash", "SELECT count(*) FROM authenticate_api_key(@keyHash)", "project_api_keys_key_hash_uq", "project_api_keys" },
        { "analytics view read", "SELECT count(*) FROM project_run_analytics()", "optimization_run_analytics_uq", "optimization_run_analytics" },
    };

    [Theory]
    [MemberData(nameof(FunctionPatterns))]
    public async Task FunctionReadsItsIndex(string pattern, string sql, string index, string table)
    {
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);

        var (rows, scans) = await service.CountScansAsync<long>(sql, new { keyHash = data.KeyHash }, index, table);

        Assert.True(rows > 0, $"{pattern}: the data set should hold matches");
        Assert.True(scans[index] > 0, $"{pattern}: expected a scan of {index}; scans: {string.Join(", ", scans)}");
        Assert.True(scans[table] == 0, $"{pattern}: {table} was read end to end; scans: {string.Join(", ", scans)}");
    }
}
