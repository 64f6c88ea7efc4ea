using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Schema;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// The planner's estimate only chooses how the run list reads a search; when it is wrong, the page is still the
/// right one. Statistics are made stale on purpose: ANALYZE, then change the tags (autovacuum is off for the table,
/// so nothing analyzes again), and the estimate describes a table that no longer exists.
/// </summary>
public sealed class RunListSearchEstimateTests : IAsyncLifetime
{
    private const int Runs = 3_000;

    // How many minutes old a run is, from its name.
    private const string Age = "split_part(run_name, '-', 2)::int";

    private ScratchDatabase? _database;
    private NpgsqlDataSource? _dataSource;
    private readonly Guid _project = Guid.NewGuid();

    // Every run had the tag when analyzed; the 5 oldest still have it. The verdict is to walk, the walk over the
    // newest runs finds none, and the list asks search_run_ids() after all.
    [Fact]
    public async Task ATagThatWasCommonWhenAnalyzedAndIsNowRareStillListsItsRuns()
    {
        await LoadAsync(tagged: "true", afterAnalyze: $"UPDATE optimization_runs SET tags = '{{}}' WHERE {Age} <= {Runs - 5}");

        var (ids, walked) = await FirstLookAsync(new RunListQuery { Tags = ["marked"] });
        Assert.Null(ids);
        Assert.Empty(walked);

        await AssertListedAsPlainAsync(new RunListQuery { Tags = ["marked"] }, expected: 5);
        // The look, the ids after all, their runs by key.
        Assert.Equal(3, (await ListCountingStatementsAsync(new RunListQuery { Tags = ["marked"] })).Commands.Count);
    }

    // No run had the tag when analyzed; half of them have it now. The verdict is to ask search_run_ids(), which
    // answers more than SearchLimit runs, and the list walks the order's index as for any common search.
    [Fact]
    public async Task ATagThatWasAbsentWhenAnalyzedAndIsNowCommonStillListsItsNewestRuns()
    {
        await LoadAsync(tagged: "false", afterAnalyze: $"UPDATE optimization_runs SET tags = '{{marked}}' WHERE {Age} % 2 = 0");

        var (ids, walked) = await FirstLookAsync(new RunListQuery { Tags = ["marked"] });
        Assert.NotNull(ids);
        Assert.Equal(RunListQueries.SearchLimit + 1, ids.Length);
        Assert.Empty(walked);

        await AssertListedAsPlainAsync(new RunListQuery { Tags = ["marked"] }, expected: 21);
    }

    // One run in 66 (45 of 3,000) has the tag and the config, and the planner knows it: 32 of them among the 2,100
    // runs the walk would read, a page and a half. The tag search walks; the config search, whose estimate can be
    // twice the truth after another ANALYZE, asks search_run_ids() first (RunListQueries.WholeValueEstimatePages).
    [Fact]
    public async Task AConfigSearchWalksOnlyWhereThePlannerExpectsTwoPages()
    {
        await LoadAsync(tagged: $"n % {Runs / 45} = 0", afterAnalyze: "SELECT 1");

        var (tagIds, tagWalked) = await FirstLookAsync(new RunListQuery { Tags = ["marked"] });
        Assert.Null(tagIds);
        Assert.Equal(21, tagWalked.Count);

        var config = new RunListQuery { ConfigJson = """{"marked": true}""" };
        var (configIds, configWalked) = await FirstLookAsync(config);
        Assert.Equal(45, configIds?.Length);
        Assert.Empty(configWalked);

        await AssertListedAsPlainAsync(config, expected: 21);
    }

    // Each round trip is a hand-over between the silo and a backend, so the list makes as few as it can: a search the
    // planner expects to be rare finds its ids in the first look and reads its page's runs by key in a second; a
    // common one walks to its page in the first. (Folding the first slice into the look saved the round trip but cost
    // PostgreSQL more per search: BENCHMARKS.md, "A rare search's page in the first look: measured, not kept".)
    [Fact]
    public async Task ARareSearchListsItsPageInTwoRoundTripsAndACommonOneInOne()
    {
        await LoadAsync(tagged: $"n % {Runs / 45} = 0", afterAnalyze: "SELECT 1");

        var rare = await ListCountingStatementsAsync(new RunListQuery { ConfigJson = """{"marked": true}""" });
        Assert.Equal(21, rare.Rows.Count);
        Assert.Equal(2, rare.Commands.Count);
        Assert.Contains("search_run_ids", rare.Commands[0]);
        Assert.DoesNotContain("search_run_ids", rare.Commands[1]);

        var common = await ListCountingStatementsAsync(new RunListQuery { Tags = ["marked"] });
        Assert.Equal(21, common.Rows.Count);
        Assert.Single(common.Commands);

        // After a cursor, one read by key takes all the ids: the 24 after the first page's 21st run, on a page of 30.
        var last = rare.Rows[^1];
        var after = new RunListQuery { ConfigJson = """{"marked": true}""", After = new RunPosition(last.Id, last.CreatedAt) };
        var next = await ListCountingStatementsAsync(after, take: 30);
        Assert.Equal(2, next.Commands.Count);
        Assert.Equal(45 - 21, next.Rows.Count);
        Assert.DoesNotContain(next.Rows, r => rare.Rows.Any(p => p.Id == r.Id));
        Assert.True(next.Rows[0].CreatedAt <= last.CreatedAt);
    }

    // The verdict plans two statements (1.3–2.3 ms of PostgreSQL's time per search on the 10 M-sample database), so
    // the silo keeps it a minute: the same search again goes straight to the look the verdict chose, in as many round
    // trips as before. Another page size is another walk, so another verdict.
    [Fact]
    public async Task ASearchsVerdictIsKeptAndTheSameSearchAgainDoesNotAskThePlanner()
    {
        await LoadAsync(tagged: $"n % {Runs / 45} = 0", afterAnalyze: "SELECT 1");
        var lists = new RunListQueries(_dataSource!);
        var rare = new RunListQuery { ConfigJson = """{"marked": true}""" };

        var first = await ListCountingStatementsAsync(rare, lists: lists);
        Assert.Contains("search_run_estimate", first.Commands[0]);
        var again = await ListCountingStatementsAsync(rare, lists: lists);
        Assert.Equal(first.Rows.Select(r => r.Id), again.Rows.Select(r => r.Id));
        Assert.Equal(2, again.Commands.Count);
        Assert.Contains("search_run_ids", again.Commands[0]);
        Assert.All(again.Commands, c => Assert.DoesNotContain("search_run_estimate", c));

        var common = new RunListQuery { Tags = ["marked"] };
        Assert.Contains("search_run_estimate", Assert.Single((await ListCountingStatementsAsync(common, lists: lists)).Commands));
        var walkedAgain = await ListCountingStatementsAsync(common, lists: lists);
        Assert.Equal(21, walkedAgain.Rows.Count);
        Assert.DoesNotContain("search_run_estimate", Assert.Single(walkedAgain.Commands));

        Assert.Contains("search_run_estimate", (await ListCountingStatementsAsync(rare, take: 31, lists: lists)).Commands[0]);
    }

    // A verdict kept from before the data changed (every run had the tag; now 5 have it) walks, comes back short and
    // reads the ids after all: a kept verdict costs time when it is out of date, never the answer.
    [Fact]
    public async Task AKeptVerdictTheDataHasOutgrownStillListsTheRightRuns()
    {
        await LoadAsync(tagged: "true", afterAnalyze: "SELECT 1");
        var lists = new RunListQueries(_dataSource!);
        var query = new RunListQuery { Tags = ["marked"] };
        Assert.Equal(21, (await ListCountingStatementsAsync(query, lists: lists)).Rows.Count);

        await using (var owner = await _database!.OpenOwnerAsync())
        {
            await owner.ExecuteAsync($"UPDATE optimization_runs SET tags = '{{}}' WHERE {Age} <= {Runs - 5}");
        }

        var listed = await ListCountingStatementsAsync(query, lists: lists);
        Assert.DoesNotContain(listed.Commands, c => c.Contains("search_run_estimate"));
        // The kept walk, short; the ids after all; their runs by key.
        Assert.Equal(3, listed.Commands.Count);
        Assert.DoesNotContain("search_run_ids", listed.Commands[0]);
        Assert.Contains("search_run_ids", listed.Commands[1]);
        Assert.Equal(5, listed.Rows.Count);
        await AssertListedAsPlainAsync(query, expected: 5);
    }

    /// <summary>
    /// <see cref="Runs"/> runs of the project, one a minute (run n is n minutes old, so the newest come first), tagged
    /// and with the config <c>{"marked": true}</c> where <paramref name="tagged"/> holds; then ANALYZE, then
    /// <paramref name="afterAnalyze"/>.
    /// </summary>
    private async Task LoadAsync(string tagged, string afterAnalyze)
    {
        await using var owner = await _database!.OpenOwnerAsync();
        await owner.ExecuteAsync(
            $$"""
            ALTER TABLE optimization_runs SET (autovacuum_enabled = false);
            INSERT INTO project_config (id, name) VALUES (@project, 'estimates');
            INSERT INTO optimization_runs (project_id, run_name, optimizer_type, tags, config, created_at)
            SELECT @project, 'run-' || n, 'custom', CASE WHEN {{tagged}} THEN ARRAY['marked'] ELSE ARRAY[]::text[] END,
                   CASE WHEN {{tagged}} THEN '{"marked": true}'::jsonb ELSE '{}'::jsonb END, now() - n * interval '1 minute'
            FROM generate_series(1, {{Runs}}) n;
            ANALYZE optimization_runs;
            {{afterAnalyze}};
            """,
            new { project = _project });
    }

    private async Task<(Guid[]? Ids, List<Guid> Walked)> FirstLookAsync(RunListQuery query)
    {
        await using var service = await ServicePlan.BeginAsync(_database!, _project);
        var look = RunListQueries.FirstLookStatement(_project, query, RunListQueries.Range.FromStart, 21);
        await using var results = await service.Connection.QueryMultipleAsync(new CommandDefinition(look.Sql, look.Parameters, service.Transaction));
        var ids = await results.ReadSingleAsync<Guid[]?>();
        return (ids, (await results.ReadAsync()).Select(r => (Guid)r.id).ToList());
    }

    private async Task AssertListedAsPlainAsync(RunListQuery query, int expected)
    {
        var listed = (await new RunListQueries(_dataSource!).ListAsync(_project, query, 21, CancellationToken.None)).Select(r => r.Id).ToList();

        var (sql, parameters) = RunListQueries.Statement(_project, query, RunListQueries.Range.FromStart, 21);
        await using var service = await ServicePlan.BeginAsync(_database!, _project);
        var plain = (await service.Connection.QueryAsync(new CommandDefinition(sql, parameters, service.Transaction))).Select(r => (Guid)r.id).ToList();
        Assert.Equal(expected, listed.Count);
        Assert.Equal(plain, listed);
    }

    /// <summary>The list's rows and the text of each command it sent.</summary>
    private async Task<(List<RunSnapshot> Rows, List<string> Commands)> ListCountingStatementsAsync(
        RunListQuery query, int take = 21, RunListQueries? lists = null)
    {
        var (rows, commands) = await DatabaseCommands.OfAsync(
            () => (lists ?? new RunListQueries(_dataSource!)).ListAsync(_project, query, take, CancellationToken.None));
        return (rows, commands.Select(c => c.Text).ToList());
    }

    public async Task InitializeAsync()
    {
        RowMapping.Register();
        _database = await ScratchDatabase.CreateAsync();
        await new Migrator(_database.OwnerConnectionString, MigrationCatalog.Load(), NullLogger.Instance).UpAsync(CancellationToken.None);
        _dataSource = NpgsqlDataSource.Create(_database.ServiceConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
