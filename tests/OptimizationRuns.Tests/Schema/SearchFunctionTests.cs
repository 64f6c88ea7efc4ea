using Dapper;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// search_run_ids() (migration 0005) reads past row-level security as its owner, so it must filter by the
/// transaction's project itself: as the service role it answers the current project's matching runs only, never
/// another project's, and nothing when no project is set.
/// </summary>
public sealed class SearchFunctionTests
{
    // The function the silo calls (migration 0016: the ids in the list's order; 0019 dropped 0005's, in no order).
    private const string Search = "SELECT search_run_ids(@tags::text[], @config::jsonb, @metadata::jsonb, @name::text, 'created_at', @limit)";
    private const string SearchInOrder = """
        SELECT found.id FROM search_run_ids(@tags::text[], @config::jsonb, @metadata::jsonb, @name::text, @order, @limit)
            WITH ORDINALITY AS found(id, position) ORDER BY position
        """;

    // The criteria, one at a time and together, each by a value of the test's own (its marker).
    [Theory]
    [InlineData("tags")]
    [InlineData("config")]
    [InlineData("metadata")]
    [InlineData("name")]
    [InlineData("all four")]
    public async Task SearchAnswersOnlyTheCurrentProjectsRuns(string criterion)
    {
        var marker = $"m{Guid.NewGuid():N}";
        var a = await TestDatabase.CreateProjectAsync();
        var b = await TestDatabase.CreateProjectAsync();
        var runsOfA = await MatchingRunsAsync(a, marker, 2);
        var runsOfB = await MatchingRunsAsync(b, marker, 3);
        var args = Arguments(criterion, marker, limit: 1000);

        Assert.Equal(Sorted(runsOfA), Sorted(await SearchAsync(a, args)));
        Assert.Equal(Sorted(runsOfB), Sorted(await SearchAsync(b, args)));
        Assert.Empty(await SearchAsync(null, args));
        Assert.Empty(await SearchAsync(Guid.NewGuid(), args));
        Assert.Empty(await SearchAsync(await TestDatabase.CreateProjectAsync(), args));
    }

    // The list reads a page from the first ids (RunListQueries.KeySlices), so they must come in its order: each of
    // the four, newest first or by a score with the unscored runs last, ties by id.
    [Theory]
    [InlineData("created_at", "created_at DESC, id DESC")]
    [InlineData("final_score", "final_score DESC NULLS LAST, id DESC")]
    [InlineData("best_score", "best_score DESC NULLS LAST, id DESC")]
    [InlineData("improvement", "improvement DESC NULLS LAST, id DESC")]
    public async Task SearchAnswersItsIdsInTheListsOrder(string order, string orderBy)
    {
        var marker = $"m{Guid.NewGuid():N}";
        var project = await TestDatabase.CreateProjectAsync();
        // Runs with scores, some the same, some without (improvement is computed from the baseline); created in a scrambled order.
        await Owner.ExecuteAsync(
            """
            INSERT INTO optimization_runs (project_id, run_name, optimizer_type, tags, final_score, best_score, baseline_score, created_at)
            SELECT @project, 'run-' || n, 'custom', ARRAY[@marker],
                   CASE WHEN n % 5 <> 0 THEN (n * 37 % 11) / 10.0 END, CASE WHEN n % 4 <> 0 THEN (n * 13 % 7) / 10.0 END,
                   CASE WHEN n % 3 <> 0 THEN (n * 7 % 9) / 20.0 END, now() - interval '1 minute' * (n * 17 % 40)
            FROM generate_series(1, 40) n
            """,
            new { project, marker });
        var expected = (await Owner.QueryAsync<Guid>(
            $"SELECT id FROM optimization_runs WHERE project_id = @project ORDER BY {orderBy}", new { project })).ToList();

        var found = await SearchAsync(project, new { tags = new[] { marker }, config = (string?)null, metadata = (string?)null,
            name = (string?)null, limit = 1000, order }, SearchInOrder);

        Assert.Equal(expected, found);
    }

    [Fact]
    public async Task AnOrderNotOfTheListIsRefused()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => SearchAsync(project, new
        {
            tags = new[] { "x" }, config = (string?)null, metadata = (string?)null, name = (string?)null, limit = 10, order = "id; DROP TABLE x",
        }, SearchInOrder));
        Assert.Equal("22023", refused.SqlState);
    }

    [Fact]
    public async Task ProjectSetInOneTransactionDoesNotCarryIntoTheNext()
    {
        var marker = $"m{Guid.NewGuid():N}";
        var a = await TestDatabase.CreateProjectAsync();
        await MatchingRunsAsync(a, marker, 1);
        var args = Arguments("tags", marker, limit: 10);

        await using var connection = await TestDatabase.OpenServiceAsync();
        await using (var transaction = await TestDatabase.BeginProjectTransactionAsync(connection, a))
        {
            Assert.Single(await connection.QueryAsync<Guid>(Search, args, transaction));
            await transaction.CommitAsync();
        }

        await using (var transaction = await TestDatabase.BeginProjectTransactionAsync(connection, null))
        {
            Assert.Empty(await connection.QueryAsync<Guid>(Search, args, transaction));
        }
    }

    [Fact]
    public async Task SearchAnswersAtMostItsLimitAndAtMostTenThousand()
    {
        var marker = $"m{Guid.NewGuid():N}";
        var project = await TestDatabase.CreateProjectAsync();
        await Owner.ExecuteAsync(
            """
            INSERT INTO optimization_runs (project_id, run_name, optimizer_type, tags)
            SELECT @project, 'run-' || n, 'custom', ARRAY[@marker] FROM generate_series(1, 10005) n
            """,
            new { project, marker });

        foreach (var (limit, expected) in new[] { (3, 3), (0, 0), (-1, 0), (1001, 1001), (10000, 10000), (20000, 10000) })
        {
            Assert.Equal(expected, (await SearchAsync(project, Arguments("tags", marker, limit))).Count);
        }
    }

    [Fact]
    public async Task NameSearchTakesTheValueAsAPatternNotAsSql()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var marker = $"m{Guid.NewGuid():N}";
        var run = await RunAsync(project, $"o'brien {marker}");

        Assert.Equal([run], await SearchAsync(project, new { tags = (string[]?)null, config = (string?)null, metadata = (string?)null,
            name = $"%o'brien {marker}%", limit = 10 }));
        Assert.Empty(await SearchAsync(project, new { tags = (string[]?)null, config = (string?)null, metadata = (string?)null,
            name = $"%{marker}' OR true --%", limit = 10 }));
    }

    // search_run_ids() and the planner's estimate of it (migration 0015) run as their owner.
    [Theory]
    [InlineData("search_run_ids(text[], jsonb, jsonb, text, text, integer)")]
    [InlineData("search_run_estimate(text[], jsonb, jsonb, text)")]
    public async Task OnlyTheServiceRoleMayCallItAndItRunsWithAFixedSearchPath(string signature)
    {
        var function = await Owner.QuerySingleAsync<FunctionRow>(
            """
            SELECT p.prosecdef AS security_definer, pg_get_userbyid(p.proowner) = current_user AS owned_by_migrator,
                   array_to_string(p.proconfig, ',') AS settings,
                   has_function_privilege('optruns_service', p.oid, 'EXECUTE') AS service_may_execute,
                   EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0) AS public_may_execute
            FROM pg_proc p WHERE p.oid = @signature::regprocedure
            """, new { signature });

        Assert.True(function.SecurityDefiner);
        Assert.True(function.OwnedByMigrator);
        Assert.Equal("search_path=public, pg_temp", function.Settings);
        Assert.True(function.ServiceMayExecute);
        Assert.False(function.PublicMayExecute);
    }

    private static object Arguments(string criterion, string marker, int limit) => new
    {
        tags = criterion is "tags" or "all four" ? new[] { marker } : null,
        config = criterion is "config" or "all four" ? $$"""{"marker": "{{marker}}"}""" : null,
        metadata = criterion is "metadata" or "all four" ? $$"""{"marker": "{{marker}}"}""" : null,
        name = criterion is "name" or "all four" ? $"%{marker}%" : null,
        limit,
    };

    /// <summary>Runs of <paramref name="project"/> that every criterion finds by <paramref name="marker"/>, and one that none finds.</summary>
    private static async Task<List<Guid>> MatchingRunsAsync(Guid project, string marker, int count)
    {
        var runs = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            runs.Add(await RunAsync(project, $"run {marker} {i}", [marker, "other"], $$"""{"marker": "{{marker}}", "n": {{i}}}"""));
        }

        await RunAsync(project, "unrelated", ["other"], """{"marker": "none"}""");
        return runs;
    }

    private static async Task<Guid> RunAsync(Guid project, string name, string[]? tags = null, string json = "{}")
    {
        var id = Guid.NewGuid();
        await Owner.ExecuteAsync(
            """
            INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, tags, config, metadata)
            VALUES (@id, @project, @name, 'custom', @tags, @json::jsonb, @json::jsonb)
            """,
            new { id, project, name, tags = tags ?? [], json });
        return id;
    }

    // The ids as the function answers them, in its order, as the service in the project's transaction.
    private static Task<List<Guid>> SearchAsync(Guid? project, object args, string search = Search) =>
        Service.InProjectAsync(project, async (connection, transaction) =>
            (await connection.QueryAsync<Guid>(search, args, transaction)).ToList());

    private static List<Guid> Sorted(IEnumerable<Guid> ids) => ids.Order().ToList();

    private sealed class FunctionRow
    {
        public bool SecurityDefiner { get; init; }
        public bool OwnedByMigrator { get; init; }
        public string Settings { get; init; } = "";
        public bool ServiceMayExecute { get; init; }
        public bool PublicMayExecute { get; init; }
    }
}
