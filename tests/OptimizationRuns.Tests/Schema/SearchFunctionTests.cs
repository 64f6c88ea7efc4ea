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
    private const string Search = "SELECT search_run_ids(@tags::text[], @config::jsonb, @metadata::jsonb, @name::text, @limit)";

    // The criteria, one at a time and together, each by a value of the test's own (its marker).
    public static TheoryData<string> Criteria => new() { "tags", "config", "metadata", "name", "all four" };

    [Theory]
    [MemberData(nameof(Criteria))]
    public async Task SearchAnswersOnlyTheCurrentProjectsRuns(string criterion)
    {
        var marker = $"m{Guid.NewGuid():N}";
        var a = await TestDatabase.CreateProjectAsync();
        var b = await TestDatabase.CreateProjectAsync();
        var runsOfA = await MatchingRunsAsync(a, marker, 2);
        var runsOfB = await MatchingRunsAsync(b, marker, 3);
        var args = Arguments(criterion, marker, limit: 1000);

        Assert.Equal(Sorted(runsOfA), await SearchAsync(a, args));
        Assert.Equal(Sorted(runsOfB), await SearchAsync(b, args));
        Assert.Empty(await SearchAsync(null, args));
        Assert.Empty(await SearchAsync(Guid.NewGuid(), args));
        Assert.Empty(await SearchAsync(await TestDatabase.CreateProjectAsync(), args));
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

    // search_run_ids() and the planner's estimate of it (migration 0015) both run as their owner.
    [Theory]
    [InlineData("search_run_ids(text[], jsonb, jsonb, text, integer)")]
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

    private static Task<List<Guid>> SearchAsync(Guid? project, object args) =>
        Service.InProjectAsync(project, async (connection, transaction) =>
            Sorted(await connection.QueryAsync<Guid>(Search, args, transaction)));

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
