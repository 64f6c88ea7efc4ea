using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Schema;
using Xunit;

namespace OptimizationRuns.Tests.Gateway;

/// <summary>
/// RunListQueries.ListAsync as the silo runs it (service role, RLS) on a realistically sized data set answers, page
/// after page, exactly what the plain statement answers, whichever way it reads a search: the bounded walk along the
/// order's index (common matches), the ids search_run_ids() finds (rare ones), or the whole walk (many matches, all
/// far down the order).
/// </summary>
public sealed class RunListSearchTests(IndexUsageDatabase data) : IClassFixture<IndexUsageDatabase>, IAsyncLifetime
{
    private NpgsqlDataSource? _dataSource;

    // search, the query, and how ListAsync reads it (for the reader of a failure: the assertions are the same).
    public static TheoryData<string> Searches => new()
    {
        "common tag (walk)", "a common tag with a rare one (ids)", "config of one run in a hundred (walk or ids)", "rare config (ids)",
        "one metadata match (ids)",
        "name matching only old runs, many (whole walk)", "tag and name (ids)", "common tag by final score (walk)",
        "a common tag with a rare one by best score (ids, scored then unscored)", "no match (ids, none)",
        "common tag by improvement (walk)", "common tag among completed runs (walk)", "common tag and config (walk)",
        "common tag among pending runs by final score (walk, unscored after a cursor)",
    };

    [Theory]
    [MemberData(nameof(Searches))]
    public async Task EveryPageIsWhatThePlainStatementAnswers(string name)
    {
        var query = name switch
        {
            "common tag (walk)" => new RunListQuery { Tags = ["qa"] },
            "a common tag with a rare one (ids)" => new RunListQuery { Tags = ["qa", "prod"] },
            "config of one run in a hundred (walk or ids)" => new RunListQuery { ConfigJson = """{"seed": 7}""" },
            "rare config (ids)" => new RunListQuery { ConfigJson = """{"seed": 7, "num_trials": 17}""" },
            "one metadata match (ids)" => new RunListQuery { MetadataJson = """{"git_sha": "eccbc87"}""" },
            "name matching only old runs, many (whole walk)" => new RunListQuery { NameContains = "light-0" },
            "tag and name (ids)" => new RunListQuery { Tags = ["prod"], NameContains = "hotpotqa" },
            "common tag by final score (walk)" => new RunListQuery { Tags = ["qa"], Sort = RunSort.FinalScore },
            "a common tag with a rare one by best score (ids, scored then unscored)" => new RunListQuery { Tags = ["qa", "prod"], Sort = RunSort.BestScore },
            "no match (ids, none)" => new RunListQuery { Tags = ["qa", "no-such-tag"] },
            "common tag by improvement (walk)" => new RunListQuery { Tags = ["qa"], Sort = RunSort.Improvement },
            "common tag among completed runs (walk)" => new RunListQuery { Tags = ["qa"], Status = RunStatus.Completed },
            "common tag and config (walk)" => new RunListQuery { Tags = ["qa"], ConfigJson = """{"auto": "light"}""" },
            "common tag among pending runs by final score (walk, unscored after a cursor)" =>
                new RunListQuery { Tags = ["qa"], Status = RunStatus.Pending, Sort = RunSort.FinalScore },
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var listed = await ListAsync(query, pageSize: 20, pages: 10);

        Assert.Equal(await PlainAsync(query, listed.Count == 200 ? 200 : 10_000), listed);
    }

    // A rare search read by its ids, in pages of 5: the first page reads the ids' slices by key (twice the page, then
    // twice as many) until it is full, and other filters leave some slices short; a page after a cursor reads all
    // the ids, the cursor's clause choosing among them.
    public static TheoryData<string> RareSearches => new()
    {
        "newest first", "completed only", "failed only (every slice short)", "by final score (scored then unscored)", "by best score",
    };

    [Theory]
    [MemberData(nameof(RareSearches))]
    public async Task EveryPageOfARareSearchReadBySlicesIsWhatThePlainStatementAnswers(string name)
    {
        var query = new RunListQuery { Tags = ["qa", "prod"] };
        query = name switch
        {
            "newest first" => query,
            "completed only" => query with { Status = RunStatus.Completed },
            "failed only (every slice short)" => query with { Status = RunStatus.Failed },
            "by final score (scored then unscored)" => query with { Sort = RunSort.FinalScore },
            "by best score" => query with { Sort = RunSort.BestScore },
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var listed = await ListAsync(query, pageSize: 5, pages: 100);

        Assert.Equal(await PlainAsync(query, 10_000), listed);
        Assert.NotEmpty(listed);
        if (query.Sort == RunSort.FinalScore)
        {
            // The pages cross from the scored runs to the unscored ones, which come last.
            var unscored = await PlainAsync(query, 10_000, RunListQueries.Range.Unscored);
            Assert.InRange(unscored.Count, 1, listed.Count - 1);
            Assert.Equal(unscored, listed.TakeLast(unscored.Count));
        }
    }

    /// <summary>
    /// The list as RunQueryGrain pages it: pages of <paramref name="pageSize"/> (and the look-ahead row), each after
    /// the last one's final run, up to <paramref name="pages"/> pages.
    /// </summary>
    private async Task<List<Guid>> ListAsync(RunListQuery query, int pageSize, int pages)
    {
        var runs = new RunListQueries(_dataSource!);
        var listed = new List<Guid>();
        RunPosition? after = null;
        for (var page = 0; page < pages; page++)
        {
            var rows = await runs.ListAsync(data.ProjectId, query with { After = after }, pageSize + 1, CancellationToken.None);
            listed.AddRange(rows.Take(pageSize).Select(r => r.Id));
            if (rows.Count <= pageSize)
            {
                break;
            }

            var last = rows[pageSize - 1];
            after = query.Sort switch
            {
                RunSort.FinalScore => new RunPosition(last.Id, Score: last.FinalScore),
                RunSort.BestScore => new RunPosition(last.Id, Score: last.BestScore),
                RunSort.Improvement => new RunPosition(last.Id, Score: last.Improvement),
                _ => new RunPosition(last.Id, CreatedAt: last.CreatedAt),
            };
        }

        return listed;
    }

    /// <summary>The first runs of the list (or of one range of it) by the plain statement (the search as a filter), as the service role.</summary>
    private async Task<List<Guid>> PlainAsync(RunListQuery query, int take, RunListQueries.Range range = RunListQueries.Range.FromStart)
    {
        var (sql, parameters) = RunListQueries.Statement(data.ProjectId, query, range, take);
        await using var service = await ServicePlan.BeginAsync(data.Database, data.ProjectId);
        return (await service.Connection.QueryAsync(new CommandDefinition(sql, parameters, service.Transaction)))
            .Select(r => (Guid)r.id).ToList();
    }

    public Task InitializeAsync()
    {
        RowMapping.Register();
        _dataSource = NpgsqlDataSource.Create(data.Database.ServiceConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}
