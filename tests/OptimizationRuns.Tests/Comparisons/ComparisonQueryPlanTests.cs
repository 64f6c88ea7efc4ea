using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Grains.Comparisons;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Schema;
using Xunit;

namespace OptimizationRuns.Tests.Comparisons;

/// <summary>
/// The comparison's statements, explained as the service role (row-level security on) in the project's transaction,
/// read each iteration's samples off the primary key, never the whole table: the plans the endpoints' latency rests on,
/// and the reason they need no index of their own.
/// </summary>
public sealed class ComparisonQueryPlanTests(ComparisonPlanDatabase data) : IClassFixture<ComparisonPlanDatabase>
{
    private static ComparedIteration Side(Guid run, int iteration) => new() { RunId = run, Iteration = iteration, Kind = IterationKind.Full };

    [Fact]
    public async Task TheComparisonReadsBothIterationsOffThePrimaryKey()
    {
        var parameters = ComparisonQueries.Sides(Side(data.RunA, 3), Side(data.RunB, 3));
        parameters.Add("ListedDuplicates", DuplicateExamples.MaxListed);

        await AssertReadsThePrimaryKeyAsync(ComparisonQueries.CompareSql, parameters, scans: 2);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("regressed", null)]
    [InlineData(null, "ex-00500")]
    public async Task PagesReadBothIterationsAndThePageRowsOffThePrimaryKey(string? bucket, string? after)
    {
        var parameters = ComparisonQueries.Sides(Side(data.RunA, 3), Side(data.RunB, 3));
        parameters.Add("AfterKey", after);
        parameters.Add("Bucket", bucket);
        parameters.Add("Take", 51);

        // Both iterations, then each page row of each side by its key.
        await AssertReadsThePrimaryKeyAsync(ComparisonQueries.PageSql, parameters, scans: 4);
    }

    [Fact]
    public async Task SidesResolveOffTheRunsAndIterationsKeys()
    {
        var json = await ExplainAsync(ComparisonQueries.ResolveSql, new DynamicParameters(new
        {
            RunA = data.RunA, IterationA = (int?)null, RunB = data.RunB, IterationB = (int?)2,
        }));

        var nodes = PlanNodes(JsonDocument.Parse(json).RootElement).ToList();
        Assert.DoesNotContain(nodes, n => n.GetProperty("Node Type").GetString() == "Seq Scan"
            && n.GetProperty("Relation Name").GetString() is "optimization_runs" or "optimization_iterations");
    }

    private async Task AssertReadsThePrimaryKeyAsync(string sql, DynamicParameters parameters, int scans)
    {
        var json = await ExplainAsync(sql, parameters);

        var nodes = PlanNodes(JsonDocument.Parse(json).RootElement).ToList();
        var samples = nodes.Where(n => n.TryGetProperty("Relation Name", out var r) && r.GetString() == "optimization_samples").ToList();
        Assert.True(samples.Count >= scans / 2, $"expected the samples to be read:\n{json}");
        Assert.All(samples, n => Assert.True(n.GetProperty("Node Type").GetString() != "Seq Scan", $"a sequential scan of the samples:\n{json}"));
        var indexes = nodes.Where(n => n.TryGetProperty("Index Name", out _)).Select(n => n.GetProperty("Index Name").GetString()).ToList();
        Assert.True(indexes.Count(i => i == "optimization_samples_pk") >= scans, $"expected {scans} reads of optimization_samples_pk:\n{json}");
    }

    private async Task<string> ExplainAsync(string sql, DynamicParameters parameters)
    {
        await using var connection = new NpgsqlConnection(data.Database.ServiceConnectionString);
        await connection.OpenAsync();
        await using var transaction = await TestDatabase.BeginProjectTransactionAsync(connection, data.ProjectId);
        return await PartitionNames.ExplainAsync(connection, sql, parameters, transaction);
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

/// <summary>
/// A migrated scratch database with a project of 40 runs, each with a baseline and three full evaluations of 1,000
/// examples (160,000 samples), and another project's runs beside them: 20 like those and 2,940 with a baseline only,
/// so neither the runs nor the iterations are a table of a few pages a sequential scan reads cheaper than a key
/// (they were, once each run was no longer updated once per inserted iteration, migration 0020). Analysed.
/// </summary>
public sealed class ComparisonPlanDatabase : IAsyncLifetime
{
    private const string LoadSql = """
        INSERT INTO project_config (id, name) VALUES (@ProjectId, 'compare'), (@OtherProjectId, 'other');
        INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type)
        SELECT CASE n WHEN 1 THEN @RunA WHEN 2 THEN @RunB ELSE gen_random_uuid() END,
               CASE WHEN n <= 40 THEN @ProjectId ELSE @OtherProjectId END, 'run-' || n, 'miprov2'
        FROM generate_series(1, 3000) n;
        INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score)
        SELECT r.id, r.project_id, k, CASE WHEN k = 0 THEN 'baseline' ELSE 'full' END, 0.4 + k * 0.1
        FROM optimization_runs r CROSS JOIN generate_series(0, 3) k
        WHERE k = 0 OR r.run_name IN (SELECT 'run-' || n FROM generate_series(1, 60) n);
        INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, prediction, score,
            success, latency_ms, prompt_tokens, completion_tokens, cost_usd)
        SELECT r.id, r.project_id, k, s, 'ex-' || lpad(s::text, 5, '0'), jsonb_build_object('question', 'question ' || s),
               jsonb_build_object('answer', 'answer ' || s), ((s + k) % 3 > 0)::int, true, 500, 900, 80, 0.0005
        FROM optimization_runs r CROSS JOIN generate_series(0, 3) k CROSS JOIN generate_series(0, 999) s
        WHERE r.run_name IN (SELECT 'run-' || n FROM generate_series(1, 60) n);
        """;

    private ScratchDatabase? _database;

    public Guid ProjectId { get; } = Guid.NewGuid();

    public Guid RunA { get; } = Guid.NewGuid();

    public Guid RunB { get; } = Guid.NewGuid();

    public ScratchDatabase Database => _database ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync();
        await new Migrator(_database.OwnerConnectionString, MigrationCatalog.Load(), NullLogger.Instance).UpAsync(CancellationToken.None);

        await using var connection = await _database.OpenOwnerAsync();
        await connection.ExecuteAsync(new CommandDefinition(LoadSql,
            new { ProjectId, OtherProjectId = Guid.NewGuid(), RunA, RunB }, commandTimeout: 300));
        await connection.ExecuteAsync("VACUUM (ANALYZE) optimization_runs, optimization_iterations, optimization_samples");
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
