using System.Text.Json;
using Dapper;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Schema;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// The statements the read endpoints run, exactly as the stores build them, use the index built for them on a
/// realistically sized data set; where the index gives the order (keyset pages), the plan does not sort.
/// </summary>
public sealed class ReadQueryPlanTests(IndexUsageDatabase data) : IClassFixture<IndexUsageDatabase>
{
    private static readonly Guid SomeRun = Guid.Parse("c0000000-0000-4000-8000-000000000000");

    public static TheoryData<string> RunLists => new()
    {
        "newest first", "newest after a cursor", "status", "optimizer", "final score", "final score after a cursor",
        "final score, unscored after a cursor", "final score, unscored", "best score after a cursor", "improvement after a cursor",
        "completed by final score",
    };

    [Theory]
    [MemberData(nameof(RunLists))]
    public async Task RunListPagesReadTheirIndexInOrder(string name)
    {
        var newest = new RunPosition(SomeRun, CreatedAt: DateTimeOffset.UtcNow.AddDays(-30));
        var scored = new RunPosition(SomeRun, Score: 0.55m);
        var unscored = new RunPosition(SomeRun);
        var (query, range, index) = name switch
        {
            "newest first" => (new RunListQuery(), RunListQueries.Range.FromStart, "optimization_runs_project_created_idx"),
            "newest after a cursor" => (new RunListQuery { After = newest }, RunListQueries.Range.After, "optimization_runs_project_created_idx"),
            "status" => (new RunListQuery { Status = RunStatus.Running }, RunListQueries.Range.FromStart, "optimization_runs_project_status_created_idx"),
            "optimizer" => (new RunListQuery { OptimizerType = OptimizerType.Gepa }, RunListQueries.Range.FromStart, "optimization_runs_project_optimizer_created_idx"),
            "final score" => (new RunListQuery { Sort = RunSort.FinalScore }, RunListQueries.Range.FromStart, "optimization_runs_project_final_idx"),
            "final score after a cursor" => (new RunListQuery { Sort = RunSort.FinalScore, After = scored }, RunListQueries.Range.After, "optimization_runs_project_final_idx"),
            "final score, unscored after a cursor" => (new RunListQuery { Sort = RunSort.FinalScore, After = unscored }, RunListQueries.Range.UnscoredAfter, "optimization_runs_project_final_idx"),
            "final score, unscored" => (new RunListQuery { Sort = RunSort.FinalScore, After = scored }, RunListQueries.Range.Unscored, "optimization_runs_project_final_idx"),
            "best score after a cursor" => (new RunListQuery { Sort = RunSort.BestScore, After = scored }, RunListQueries.Range.After, "optimization_runs_project_best_idx"),
            "improvement after a cursor" => (new RunListQuery { Sort = RunSort.Improvement, After = new RunPosition(SomeRun, Score: 0.1m) }, RunListQueries.Range.After, "optimization_runs_project_improvement_idx"),
            "completed by final score" => (new RunListQuery { Status = RunStatus.Completed, Sort = RunSort.FinalScore }, RunListQueries.Range.FromStart,
                "optimization_runs_leaderboard_idx|optimization_runs_project_final_idx"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var (sql, parameters) = RunListQueries.Statement(data.ProjectId, query, range, 21);

        await AssertPlanAsync(name, sql, parameters, index, ordered: true);
    }

    public static TheoryData<string> RunSearches => new() { "tag", "config", "name" };

    // Selective filters: the planner may take their GIN index and sort the few matches, or walk the order's index.
    [Theory]
    [MemberData(nameof(RunSearches))]
    public async Task RunSearchesUseAnIndex(string name)
    {
        var query = name switch
        {
            "tag" => new RunListQuery { Tags = ["prod"] },
            "config" => new RunListQuery { ConfigJson = """{"seed": 7, "num_trials": 17}""" },
            _ => new RunListQuery { NameContains = "hotpotqa-gepa" },
        };
        var (sql, parameters) = RunListQueries.Statement(data.ProjectId, query, RunListQueries.Range.FromStart, 21);

        await AssertPlanAsync(name, sql, parameters,
            "optimization_runs_tags_gin|optimization_runs_config_gin|optimization_runs_name_trgm|optimization_runs_project_created_idx", ordered: false);
    }

    [Fact]
    public async Task SamplePagesWithFiltersReadThePrimaryKey()
    {
        var (sql, parameters) = SampleQueries.PageStatement(
            new SampleQuery { RunId = data.RunId, Success = true, MinScore = 0.5m, After = new SamplePosition(data.RunId, 2, 40) }, 101);
        await AssertPlanAsync("samples page", sql, parameters, "optimization_samples_pk", ordered: true);

        // One iteration's few samples: the key narrows to them, and sorting what is left costs nothing.
        (sql, parameters) = SampleQueries.PageStatement(
            new SampleQuery { RunId = data.RunId, Iteration = 7, Success = false, After = new SamplePosition(data.RunId, 7, 40) }, 101);
        await AssertPlanAsync("one iteration's samples", sql, parameters, "optimization_samples_pk", ordered: false);
    }

    [Fact]
    public async Task TheRunsOtherReadsUseTheirIndexes()
    {
        await AssertPlanAsync("trace", SampleQueries.TraceSql, new DynamicParameters(new
        {
            data.TraceId, AfterRunId = Guid.Empty, AfterIteration = -1, AfterSampleIndex = -1, Take = 101,
        }), "optimization_samples_trace_idx", ordered: false);
        await AssertPlanAsync("iterations", IterationQueries.IterationsSql, new DynamicParameters(new { data.RunId }),
            "optimization_iterations_pk|optimization_iterations_project_uq", ordered: false);
        await AssertPlanAsync("best iteration", IterationQueries.BestSql, new DynamicParameters(new { data.RunId }),
            "optimization_iterations_best_idx", ordered: false);
        await AssertPlanAsync("leaderboard", AnalyticsQueries.LeaderboardSql, new DynamicParameters(new { OptimizerType = (string?)null, Limit = 10 }),
            "optimization_runs_leaderboard_idx", ordered: true);
    }

    private async Task AssertPlanAsync(string name, string sql, DynamicParameters parameters, string index, bool ordered)
    {
        await using var connection = await data.Database.OpenOwnerAsync();
        await connection.ExecuteAsync("SELECT set_config('app.project_id', @project, false)", new { project = data.ProjectId.ToString() });
        var json = await connection.QuerySingleAsync<string>($"EXPLAIN (FORMAT JSON) {sql}", parameters);

        var nodes = PlanNodes(JsonDocument.Parse(json).RootElement).ToList();
        var indexes = nodes.Where(n => n.TryGetProperty("Index Name", out _)).Select(n => n.GetProperty("Index Name").GetString()).ToList();
        Assert.True(index.Split('|').Any(indexes.Contains), $"{name}: expected {index}, plan uses [{string.Join(", ", indexes)}]:\n{json}");
        if (ordered)
        {
            Assert.False(nodes.Any(n => n.GetProperty("Node Type").GetString() is "Sort" or "Incremental Sort"),
                $"{name}: the index should give the order, but the plan sorts:\n{json}");
        }
    }

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
        return self.Concat(element.EnumerateObject().Where(p => p.Name is "Plan" or "Plans").SelectMany(p => PlanNodes(p.Value)));
    }
}
