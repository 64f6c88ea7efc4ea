using System.Text.Json;
using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Schema;
using Xunit;

namespace OptimizationRuns.Tests.Analysis;

/// <summary>
/// The analyses' statements, exactly as the store builds them, planned as the service role under row-level security
/// on a realistically sized data set: the examples page aggregates from its index alone with the project check as an
/// index condition; the trajectory and the export pages read their primary keys, never the examples' indexes.
/// </summary>
public sealed class RunAnalysisQueryPlanTests(IndexUsageDatabase data) : IClassFixture<IndexUsageDatabase>
{
    public static TheoryData<ExampleSort, string?, bool> ExamplePages => new()
    {
        { ExampleSort.Hardest, null, false },
        { ExampleSort.Flakiest, null, true },
        { ExampleSort.Hardest, "full", true },
    };

    [Theory]
    [MemberData(nameof(ExamplePages))]
    public async Task ExamplesAreAggregatedFromTheirIndexAlone(ExampleSort sort, string? kind, bool afterACursor)
    {
        var query = new ExampleQuery
        {
            RunId = data.RunId, Sort = sort, Kind = kind is null ? null : DomainNames.ParseName<IterationKind>(kind),
            After = afterACursor ? new ExamplePosition(0.5m, -1, "id:ex-17") : null,
        };
        var (sql, parameters) = RunAnalysisQueries.ExamplesStatement(query, 51);

        var nodes = await PlanAsync(sql, parameters);

        // The run's samples for the aggregation, and the page's examples' samples for their kinds: the planner may look the
        // latter up by example id or scan the run's range again (seen on a fresh CI database); either way, index only.
        var scans = nodes.Where(n => n.TryGetProperty("Index Name", out var index) && index.GetString() == "optimization_samples_examples_idx").ToList();
        Assert.All(scans, scan => Assert.Equal("Index Only Scan", scan.GetProperty("Node Type").GetString()));
        Assert.All(scans, scan => Assert.Contains("project_id", scan.GetProperty("Index Cond").GetString()));
        Assert.Contains(scans, scan => !scan.GetProperty("Index Cond").GetString()!.Contains("example_id"));
        Assert.Contains(nodes, n => n.TryGetProperty("Index Name", out var index) && index.GetString() == "optimization_samples_unnamed_examples_idx");
        // The samples are read by those indexes only (the last errors of the page by primary key).
        Assert.DoesNotContain(nodes, n => n.GetProperty("Node Type").GetString() is "Seq Scan" or "Bitmap Heap Scan"
            && n.GetProperty("Relation Name").GetString() == "optimization_samples");
    }

    [Fact]
    public async Task TheTrajectoryReadsTheRunsIterationsByIndex()
    {
        // A run's few dozen iterations: the planner may sort them for the window rather than walk the index in order.
        var nodes = await PlanAsync(RunAnalysisQueries.TrajectorySql, new DynamicParameters(new { data.RunId }));
        Assert.Contains(nodes, n => n.TryGetProperty("Index Name", out var index)
            && index.GetString() is "optimization_iterations_pk" or "optimization_iterations_project_uq");
    }

    // The fixture's runs are small (2,000 samples): the planner may fetch a page's rows by the key and sort them. On a
    // large run it walks the key in order (bench/run-analysis.sh, 1M samples); what must never happen is a page read
    // through the examples indexes, which would sort the whole run for every page.
    [Fact]
    public async Task ExportPagesReadTheirPrimaryKeys()
    {
        await AssertIndexAsync(
            RunAnalysisQueries.SamplePageSql.Replace("$1", "@RunId").Replace("$2", "@Take").Replace("$3", "@AfterIteration").Replace("$4", "@AfterSampleIndex"),
            new DynamicParameters(new { data.RunId, AfterIteration = 7, AfterSampleIndex = 40, Take = 1_000 }), "optimization_samples_pk");
        await AssertIndexAsync(RunAnalysisQueries.IterationPageSql,
            new DynamicParameters(new { data.RunId, AfterIteration = 3, Take = 500 }), "optimization_iterations_pk|optimization_iterations_project_uq");
    }

    private async Task AssertIndexAsync(string sql, DynamicParameters parameters, string index)
    {
        var nodes = await PlanAsync(sql, parameters);
        var indexes = nodes.Where(n => n.TryGetProperty("Index Name", out _)).Select(n => n.GetProperty("Index Name").GetString()).ToList();
        Assert.True(indexes.Count > 0 && indexes.All(index.Split('|').Contains), $"expected {index}, plan uses [{string.Join(", ", indexes)}]");
    }

    private async Task<List<JsonElement>> PlanAsync(string sql, DynamicParameters parameters)
    {
        await using var connection = new NpgsqlConnection(data.Database.ServiceConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SELECT set_config('app.project_id', @project, true)", new { project = data.ProjectId.ToString() }, transaction);
        var json = await PartitionNames.ExplainAsync(connection, sql, parameters, transaction);
        return Nodes(JsonDocument.Parse(json).RootElement).ToList();
    }

    private static IEnumerable<JsonElement> Nodes(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Nodes),
        JsonValueKind.Object => (element.TryGetProperty("Node Type", out _) ? [element.Clone()] : Enumerable.Empty<JsonElement>())
            .Concat(element.EnumerateObject().Where(p => p.Name is "Plan" or "Plans").SelectMany(p => Nodes(p.Value))),
        _ => [],
    };
}
