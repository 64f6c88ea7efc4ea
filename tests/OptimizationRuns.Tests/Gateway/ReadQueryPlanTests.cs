using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Schema;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// The statements the read endpoints run, exactly as the stores build them, use the index built for them on a
/// realistically sized data set, as the service role with the project set (row-level security applies, as in the
/// silo); where the index gives the order (keyset pages), the plan does not sort.
/// </summary>
public sealed class ReadQueryPlanTests(IndexUsageDatabase data) : IClassFixture<IndexUsageDatabase>
{
    private static readonly Guid SomeRun = Guid.Parse("c0000000-0000-4000-8000-000000000000");

    public static TheoryData<string> RunLists => new()
    {
        "newest first", "newest after a cursor", "status", "optimizer", "final score", "final score after a cursor",
        "final score, unscored after a cursor", "final score, unscored", "best score after a cursor", "improvement after a cursor",
        "completed by final score", "running by final score", "failed by best score after a cursor", "completed by improvement after a cursor",
    };

    [Theory]
    [MemberData(nameof(RunLists))]
    public async Task RunListPagesReadTheirIndexInOrder(string name)
    {
        var (query, range, index) = RunList(name);
        var (sql, parameters) = RunListQueries.Statement(data.ProjectId, query, range, 21);

        await AssertPlanAsync(name, sql, parameters, index, ordered: true);
        if (RunListQueries.RunsOnGenericPlan(query))
        {
            // As the silo runs it (ProjectReader): planned once for every project, status, position and page size, it
            // must read the same index in order. Before migration 0018 "completed by final score" did not: the
            // leaderboard's partial index needs the status's value.
            await AssertPlanAsync(name + " (generic plan)", sql, parameters, index, ordered: true, generic: true);
        }
    }

    private static (RunListQuery Query, RunListQueries.Range Range, string Index) RunList(string name)
    {
        var newest = new RunPosition(SomeRun, CreatedAt: DateTimeOffset.UtcNow.AddDays(-30));
        var scored = new RunPosition(SomeRun, Score: 0.55m);
        var unscored = new RunPosition(SomeRun);
        return name switch
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
                "optimization_runs_leaderboard_idx|optimization_runs_project_status_final_idx"),
            // A run has no final score until it completes: walking the final-score index for running runs passed every
            // scored run first (migration 0018).
            "running by final score" => (new RunListQuery { Status = RunStatus.Running, Sort = RunSort.FinalScore }, RunListQueries.Range.FromStart,
                "optimization_runs_project_status_final_idx"),
            "failed by best score after a cursor" => (new RunListQuery { Status = RunStatus.Failed, Sort = RunSort.BestScore, After = scored },
                RunListQueries.Range.After, "optimization_runs_project_status_best_idx"),
            "completed by improvement after a cursor" => (new RunListQuery { Status = RunStatus.Completed, Sort = RunSort.Improvement, After = new RunPosition(SomeRun, Score: 0.1m) },
                RunListQueries.Range.After, "optimization_runs_project_status_improvement_idx"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    public static TheoryData<string> RunSearches => new() { "a common tag with a rare one", "config", "metadata", "name", "tag and name" };

    // A selective search: the planner expects fewer matches than the bounded walk would need, so the first look asks
    // search_run_ids(), which reads its GIN index as the function's owner (the server's scan counts show it: EXPLAIN
    // does not look into a function), and skips the walk without reading the order's index. The list statement reads
    // those runs by key under RLS and sorts them. Together they answer exactly what the statement without the ids does.
    [Theory]
    [MemberData(nameof(RunSearches))]
    public async Task SelectiveRunSearchesReadTheirIndexUnderRls(string name)
    {
        var (query, index) = name switch
        {
            "a common tag with a rare one" => (new RunListQuery { Tags = ["qa", "prod"] }, "optimization_runs_tags_gin"),
            "config" => (new RunListQuery { ConfigJson = """{"seed": 7, "num_trials": 17}""" }, "optimization_runs_config_gin"),
            "metadata" => (new RunListQuery { MetadataJson = """{"git_sha": "eccbc87"}""" }, "optimization_runs_metadata_gin"),
            "name" => (new RunListQuery { NameContains = "hotpotqa-gepa-light-0" }, "optimization_runs_name_trgm"),
            "tag and name" => (new RunListQuery { Tags = ["prod"], NameContains = "hotpotqa" }, "optimization_runs_tags_gin"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);

        var look = RunListQueries.FirstLookStatement(data.ProjectId, query, RunListQueries.Range.FromStart, 21);
        var ((ids, walked), scans) = await service.CountScansAsync(
            () => FirstLookAsync(service, look), index, "optimization_runs", "optimization_runs_project_created_idx");
        Assert.NotNull(ids);
        Assert.InRange(ids.Length, 1, RunListQueries.SearchLimit);
        Assert.Empty(walked);
        Assert.True(scans[index] > 0, $"{name}: search_run_ids() should read {index}; scans: {string.Join(", ", scans)}");
        Assert.Equal(0, scans["optimization_runs"]);
        Assert.Equal(0, scans["optimization_runs_project_created_idx"]);

        var (sql, parameters) = RunListQueries.Statement(data.ProjectId, query, RunListQueries.Range.FromStart, 21, ids);
        var plan = await service.ExplainAsync(sql, parameters);
        Assert.True(plan.Uses("optimization_runs_pkey|optimization_runs_id_project_uq"), $"{name}: expected the runs by key, plan uses {plan}");
        Assert.Empty(plan.SequentialScans);
        var generic = await service.ExplainGenericAsync(sql, parameters);
        Assert.True(generic.Uses("optimization_runs_pkey|optimization_runs_id_project_uq"), $"{name}: expected the runs by key on the generic plan, plan uses {generic}");
        Assert.Empty(generic.SequentialScans);

        var byIds = await ListAsync(service, sql, parameters);
        var (plainSql, plainParameters) = RunListQueries.Statement(data.ProjectId, query, RunListQueries.Range.FromStart, 21);
        Assert.Equal(await ListAsync(service, plainSql, plainParameters), byIds);
        Assert.NotEmpty(byIds);
    }

    // A rare search's ids come in the list's order (migration 0016), so its first page is the first slice's page:
    // twice the page read by key, not every match (51 here; 614 read for 21 shown on the 10 M-sample database).
    [Theory]
    [InlineData(RunSort.CreatedAt)]
    [InlineData(RunSort.FinalScore)]
    public async Task ARareSearchsPageReadsTheFirstSliceOfItsIdsByKey(RunSort sort)
    {
        const int Take = 21;
        var query = new RunListQuery { Tags = ["qa", "prod"], Sort = sort };
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);
        var search = RunListQueries.SearchStatement(query)!.Value;
        var ids = await service.Connection.QuerySingleAsync<Guid[]>(new CommandDefinition(search.Sql, search.Parameters, service.Transaction));
        var (allSql, allParameters) = RunListQueries.Statement(data.ProjectId, query, RunListQueries.Range.FromStart, 10_000);
        Assert.Equal(await ListAsync(service, allSql, allParameters), ids);
        Assert.True(ids.Length > 2 * Take, $"the data set should have more than two pages of matches, has {ids.Length}");

        var slice = RunListQueries.KeySlices(ids, RunListQueries.Range.FromStart, Take).First();
        Assert.Equal(2 * Take, slice.Count);
        var (sql, parameters) = RunListQueries.Statement(data.ProjectId, query, RunListQueries.Range.FromStart, Take, [.. slice]);
        var (plainSql, plainParameters) = RunListQueries.Statement(data.ProjectId, query, RunListQueries.Range.FromStart, Take);
        Assert.Equal(await ListAsync(service, plainSql, plainParameters), await ListAsync(service, sql, parameters));
    }

    // A common match (one run in six): the planner expects the walk to fill the page, so the first look does not ask
    // search_run_ids() (whose GIN index it leaves unread; it would find more than SearchLimit runs) and walks the
    // order's index under RLS, without a sort, to the page: the index alone, whose entries carry the tags (migration
    // 0017), then the page's runs by key.
    [Theory]
    [InlineData("newest first")]
    [InlineData("after a cursor")]
    [InlineData("by final score")]
    public async Task CommonRunSearchWalksTheListsOrder(string name)
    {
        var query = new RunListQuery
        {
            Tags = ["qa"],
            After = name == "after a cursor" ? new RunPosition(SomeRun, CreatedAt: DateTimeOffset.UtcNow.AddDays(-30)) : null,
            Sort = name == "by final score" ? RunSort.FinalScore : RunSort.CreatedAt,
        };
        var index = query.Sort == RunSort.FinalScore ? "optimization_runs_project_final_idx" : "optimization_runs_project_created_idx";
        var range = query.After is null ? RunListQueries.Range.FromStart : RunListQueries.Range.After;
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);

        var look = RunListQueries.FirstLookStatement(data.ProjectId, query, range, 21);
        var ((ids, walked), scans) = await service.CountScansAsync(() => FirstLookAsync(service, look), "optimization_runs_tags_gin");
        Assert.Null(ids);
        Assert.Equal(0, scans["optimization_runs_tags_gin"]);
        var (plainSql, plainParameters) = RunListQueries.Statement(data.ProjectId, query, range, 21);
        Assert.Equal(21, walked.Count);
        Assert.Equal(await ListAsync(service, plainSql, plainParameters), walked);

        // The walk's plan, with the verdict the first statement left in the transaction.
        var plan = await service.ExplainAsync(look.Walk, look.Parameters, analyze: true);
        Assert.True(plan.ReadsAlone(index), $"expected the order's index alone, plan uses {plan}");
        Assert.True(plan.Uses("optimization_runs_pkey|optimization_runs_id_project_uq"), $"expected the page by key, plan uses {plan}");
        Assert.InRange(plan.RowsSorted, 0, 21);
        Assert.Empty(plan.SequentialScans);

        var search = RunListQueries.SearchStatement(query)!.Value;
        var all = await service.Connection.QuerySingleAsync<Guid[]>(new CommandDefinition(search.Sql, search.Parameters, service.Transaction));
        Assert.Equal(RunListQueries.SearchLimit + 1, all.Length);
    }

    // Both statements of the first look, as PageReader sends them: the ids (or null), then the walked runs.
    private static async Task<(Guid[]? Ids, List<Guid> Walked)> FirstLookAsync(ServicePlan service, RunListQueries.FirstLook look)
    {
        await using var results = await service.Connection.QueryMultipleAsync(new CommandDefinition(look.Sql, look.Parameters, service.Transaction));
        var ids = await results.ReadSingleAsync<Guid[]?>();
        return (ids, (await results.ReadAsync()).Select(r => (Guid)r.id).ToList());
    }

    // PostgreSQL plans a prepared statement again on every call while it estimates a custom plan cheaper (and always
    // for its first five calls): 0.17-0.32 ms of planning per list read on the 10 M-sample database. The run list,
    // the leaderboard and the samples page run on the generic plan of their statement, prepared by Npgsql as in the
    // silo (DataServices), from the first call after it is prepared; a list filtered on a column its order's index
    // does not lead with (an optimizer by final score) is planned for its values (RunListQueries.RunsOnGenericPlan).
    [Fact]
    public async Task ListReadsRunOnGenericPlans()
    {
        await using var dataSource = OneConnectionDataSource();
        var (runs, samples, analytics) = (new RunListQueries(dataSource), new SampleQueries(dataSource), new AnalyticsQueries(dataSource));
        const int Calls = 10;
        for (var call = 0; call < Calls; call++)
        {
            await runs.ListAsync(data.ProjectId, new RunListQuery(), 21, CancellationToken.None);
            await runs.ListAsync(data.ProjectId, new RunListQuery { Status = RunStatus.Failed }, 21, CancellationToken.None);
            await runs.ListAsync(data.ProjectId, new RunListQuery { Sort = RunSort.FinalScore }, 21, CancellationToken.None);
            await runs.ListAsync(data.ProjectId, new RunListQuery { Status = RunStatus.Completed, Sort = RunSort.FinalScore }, 21, CancellationToken.None);
            await runs.ListAsync(data.ProjectId, new RunListQuery { OptimizerType = OptimizerType.Gepa, Sort = RunSort.FinalScore }, 21, CancellationToken.None);
            await samples.PageAsync(data.ProjectId, new SampleQuery { RunId = data.RunId }, 101, CancellationToken.None);
            await analytics.LeaderboardAsync(data.ProjectId, null, 10, CancellationToken.None);
        }

        var prepared = await PreparedStatementsAsync(dataSource);
        (long Generic, long Custom) Plans(string read, string? filter)
        {
            var statement = Assert.Single(prepared, p => p.Statement.Contains(read, StringComparison.Ordinal)
                && (filter is null
                    ? !p.Statement.Contains("status = $", StringComparison.Ordinal) && !p.Statement.Contains("optimizer_type = $", StringComparison.Ordinal)
                    : p.Statement.Contains(filter, StringComparison.Ordinal))
                && !p.Statement.Contains("set_config", StringComparison.Ordinal));
            return (statement.Generic, statement.Custom);
        }

        foreach (var (read, filter) in new[]
        {
            ("ORDER BY created_at DESC, id DESC LIMIT", null), ("ORDER BY created_at DESC, id DESC LIMIT", "status = $"),
            ("ORDER BY final_score DESC NULLS LAST", null), ("ORDER BY final_score DESC NULLS LAST", "status = $"),
            ("FROM optimization_samples", null), ("top_runs(", null),
        })
        {
            var (generic, custom) = Plans(read, filter);
            Assert.True(custom == 0 && generic >= Calls - 2, $"{read} ({filter}): {generic} generic and {custom} custom plans in {Calls} calls");
        }

        // Always planned for its values for its first five calls: the reader did not force the generic plan.
        var (_, optimizerCustom) = Plans("ORDER BY final_score DESC NULLS LAST", "optimizer_type = $");
        Assert.True(optimizerCustom >= 5, $"an optimizer by final score: {optimizerCustom} custom plans in {Calls} calls");
    }

    // A rare search's page is read by key (its ids), whose plan is the key whatever the values; its reader runs on
    // PostgreSQL's choice, which planned a config search's read for its values on every call (the custom plan
    // estimated cheaper than the generic one). The read by key runs on its generic plan from the first prepared call.
    [Fact]
    public async Task ASearchsReadByKeyRunsOnItsGenericPlan()
    {
        await using var dataSource = OneConnectionDataSource();
        var runs = new RunListQueries(dataSource);
        const int Calls = 10;
        for (var call = 0; call < Calls; call++)
        {
            await runs.ListAsync(data.ProjectId, new RunListQuery { Tags = ["qa", "prod"] }, 21, CancellationToken.None);
            await runs.ListAsync(data.ProjectId, new RunListQuery { ConfigJson = """{"seed": 7, "num_trials": 17}""" }, 21, CancellationToken.None);
        }

        var prepared = await PreparedStatementsAsync(dataSource);
        foreach (var search in new[] { "tags @> $", "config @> $" })
        {
            var byKey = Assert.Single(prepared, p => p.Statement.Contains("id = ANY($", StringComparison.Ordinal)
                && p.Statement.Contains(search, StringComparison.Ordinal) && !p.Statement.Contains("set_config", StringComparison.Ordinal));
            Assert.True(byKey.Custom == 0 && byKey.Generic >= Calls - 2,
                $"{search}: the read by key had {byKey.Generic} generic and {byKey.Custom} custom plans in {Calls} calls");
        }
    }

    // The silo's settings for prepared statements (DataServices), on one connection, so every call uses the same
    // prepared statements, and they can be read back.
    private NpgsqlDataSource OneConnectionDataSource()
    {
        RowMapping.Register();
        var builder = new NpgsqlDataSourceBuilder(data.Database.ServiceConnectionString);
        builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.Pooling = true;
        builder.ConnectionStringBuilder.MaxPoolSize = 1;
        return builder.Build();
    }

    private static async Task<List<(string Statement, long Generic, long Custom)>> PreparedStatementsAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<(string Statement, long Generic, long Custom)>(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")).ToList();
    }

    [Fact]
    public async Task SamplePagesWithFiltersReadThePrimaryKey()
    {
        var (sql, parameters) = SampleQueries.PageStatement(
            new SampleQuery { RunId = data.RunId, Success = true, MinScore = 0.5m, After = new SamplePosition(data.RunId, 2, 40) }, 101);
        // Not asserted in order: the samples are partitioned by run (migration 0014), and here a run can be a sixth of
        // its partition, where fetching its rows by the key and sorting them is costed cheaper (IndexUsageTests says more).
        await AssertPlanAsync("samples page", sql, parameters, "optimization_samples_pk", ordered: false, generic: true);

        // One iteration's few samples: the key narrows to them, and sorting what is left costs nothing.
        (sql, parameters) = SampleQueries.PageStatement(
            new SampleQuery { RunId = data.RunId, Iteration = 7, Success = false, After = new SamplePosition(data.RunId, 7, 40) }, 101);
        await AssertPlanAsync("one iteration's samples", sql, parameters, "optimization_samples_pk", ordered: false, generic: true);
    }

    // The dashboard's filters: a kind is the run's few iterations of that kind, read from the iteration key, then an
    // index condition of the sample key; an example id is one sample per trial (the examples index); errors are the
    // run's key range after the cursor, filtered. Each sorts the few rows it found, so no order is asserted.
    [Theory]
    [InlineData("full trials", "full", null, false)]
    [InlineData("full trials' errors", "full", null, true)]
    [InlineData("one example", null, "ex-7", false)]
    [InlineData("one example's minibatch samples", "minibatch", "ex-7", false)]
    [InlineData("errors only", null, null, true)]
    public async Task SamplePagesByKindExampleOrErrorReadTheirIndexes(string name, string? kind, string? exampleId, bool errorsOnly)
    {
        var query = new SampleQuery
        {
            RunId = data.RunId, Kind = kind is null ? null : DomainNames.ParseName<IterationKind>(kind), ExampleId = exampleId,
            ErrorsOnly = errorsOnly, After = new SamplePosition(data.RunId, 5, 40),
        };
        var (sql, parameters) = SampleQueries.PageStatement(query, 101);
        await AssertPlanAsync(name, sql, parameters, "optimization_samples_pk|optimization_samples_examples_idx", ordered: false, generic: true);
    }

    [Fact]
    public async Task TheRunsOtherReadsUseTheirIndexes()
    {
        // The trace lookup names no run, so it probes all 16 sample partitions; with this data set's 100 runs some
        // partitions hold a few hundred rows, and reading those whole is the planner's right choice (a fresh CI database
        // did so once). It must still read the trace index where the rows are.
        await AssertPlanAsync("trace", SampleQueries.TraceSql, new DynamicParameters(new
        {
            data.TraceId, AfterRunId = Guid.Empty, AfterIteration = -1, AfterSampleIndex = -1, Take = 101,
        }), "optimization_samples_trace_idx", ordered: false, smallPartitionsMayBeScanned: true);
        await AssertPlanAsync("iterations", IterationQueries.IterationsSql, new DynamicParameters(new { data.RunId }),
            "optimization_iterations_pk|optimization_iterations_project_uq", ordered: false);
        await AssertPlanAsync("best iteration", IterationQueries.BestSql, new DynamicParameters(new { data.RunId }),
            "optimization_iterations_best_idx", ordered: false);
        await AssertPlanAsync("leaderboard", AnalyticsQueries.LeaderboardSql, new DynamicParameters(new { OptimizerType = (string?)null, Limit = 10 }),
            "optimization_runs_leaderboard_idx", ordered: true);
        // The silo runs the leaderboard on its generic plan, for any optimizer.
        var leaderboard = new DynamicParameters();
        leaderboard.Add("OptimizerType", "gepa");
        leaderboard.Add("Limit", 10);
        await AssertPlanAsync("leaderboard (generic plan)", AnalyticsQueries.LeaderboardSql, leaderboard,
            "optimization_runs_leaderboard_idx", ordered: true, generic: true);
    }

    // The params filter of a run's iterations reads the run's key range and tests each trial, even for 400 trials:
    // A GIN index of params (dropped by migration 0013) would list "instruction 2 of predictor 0" for a trial of every run.
    [Fact]
    public async Task IterationsByParamsReadTheRunsKeyRange()
    {
        var parameters = new DynamicParameters(new { RunId = data.LongRunId, Params = """{"predictors": {"0": {"instruction": 2}}}""" });
        await AssertPlanAsync("iterations by params", IterationQueries.IterationsWithParamsSql, parameters,
            "optimization_iterations_pk|optimization_iterations_project_uq", ordered: false);

        RowMapping.Register();
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);
        var trials = (await service.Connection.QueryAsync<OptimizationRuns.Grains.Queries.IterationView>(
            new CommandDefinition(IterationQueries.IterationsWithParamsSql, parameters, service.Transaction))).Select(t => t.Iteration).ToList();
        Assert.Equal(Enumerable.Range(0, 400).Where(k => k % 12 == 2), trials);
    }

    // A page of a run's examples aggregates the run's samples once; which kinds each example of the page was seen in
    // is then read from that example's own samples. At 10 M samples the planner once joined the page to every sample of
    // the run instead (61 of 70 ms for a 13,000-sample run): the rows read tell the two apart at any size.
    [Fact]
    public async Task AnExamplesPageReadsTheRunsSamplesOnceAndThenOnlyThePagesExamples()
    {
        const int Take = 10;
        var (sql, parameters) = RunAnalysisQueries.ExamplesStatement(new ExampleQuery { RunId = data.RunId, Sort = ExampleSort.Hardest }, Take);
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);
        var plan = await service.ExplainAsync(sql, parameters, analyze: true);

        // The run: 20 trials × 100 examples. Its page's examples: 10 × 20 samples, and the last failure of each.
        Assert.InRange(plan.RowsRead("optimization_samples"), 2_000, 2_000 + Take * 20 + Take);
    }

    private async Task AssertPlanAsync(string name, string sql, DynamicParameters parameters, string index, bool ordered,
        bool smallPartitionsMayBeScanned = false, bool generic = false)
    {
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);
        var plan = generic ? await service.ExplainGenericAsync(sql, parameters) : await service.ExplainAsync(sql, parameters);

        Assert.True(plan.Uses(index), $"{name}: expected {index}, plan uses {plan}");
        if (smallPartitionsMayBeScanned)
        {
            // Partitions appear under their parent's name: at most some of the 16 may be read whole, never all.
            Assert.True(plan.SequentialScans.Count < 16, $"{name}: every partition read whole:\n{plan.Json}");
        }
        else
        {
            Assert.Empty(plan.SequentialScans);
        }
        if (ordered)
        {
            Assert.False(plan.Sorts, $"{name}: the index should give the order, but the plan sorts:\n{plan.Json}");
        }
    }

    private static async Task<List<Guid>> ListAsync(ServicePlan service, string sql, DynamicParameters parameters) =>
        (await service.Connection.QueryAsync(new CommandDefinition(sql, parameters, service.Transaction))).Select(r => (Guid)r.id).ToList();
}
