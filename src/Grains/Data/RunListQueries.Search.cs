using System.Text;
using Dapper;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The run list's searches (tags, config, metadata, name) under row-level security, which keeps their GIN indexes
/// from the list statement: their operators are not LEAKPROOF. Migration 0005 gives the service
/// <c>search_run_ids()</c>, which reads those indexes for the transaction's project only; migration 0015
/// <c>search_run_estimate()</c>, the planner's guess of how many runs that will be, so a rare search does not walk.
/// </summary>
public sealed partial class RunListQueries
{
    /// <summary>
    /// A common search looks for its page among this many runs of the order per run asked for (2,100 for a page of 20
    /// and the look-ahead row), at most <see cref="MaxWalkRows"/>: a match of one run in 100 or more fills the page
    /// there, as cheaply as before. Below that, finding every match by its GIN index and reading them by key costs
    /// less than walking on; measured in BENCHMARKS.md (50 and 150 per row cost more over the benchmark's mixes).
    /// The planner's estimate says in advance which side of that line a search falls (<see cref="FirstLookStatement"/>).
    /// </summary>
    public const int WalkRowsPerPageRow = 100;

    /// <summary>The most runs the first look walks, whatever the page size.</summary>
    public const int MaxWalkRows = 5_000;

    /// <summary>
    /// A search by config, metadata or name walks only when the planner expects this many pages among the runs the
    /// walk reads, not one. Its estimate comes from statistics of whole values, and one ANALYZE's sample can put it at
    /// twice the truth: <c>{"breadth":7,"depth":3}</c> went from 111 to 406 estimated matches (174 true) and walked
    /// 2,100 runs for 16, then read the ids after all, 2.5–5.5 ms where the ids alone cost 0.9–1.6
    /// (BENCHMARKS.md, "A config search's verdict"). A tag's estimate comes from statistics of each tag, and its walk
    /// reads the index alone (migration 0017), so a search by tags walks when it expects one page.
    /// </summary>
    public const int WholeValueEstimatePages = 2;

    /// <summary>
    /// A search that matches at most this many of the project's runs is read by their ids (the primary key, then a
    /// sort of those few); one that matches more walks the order's index and filters.
    /// </summary>
    public const int SearchLimit = 1_000;

    /// <summary>
    /// Up to <see cref="SearchLimit"/> + 1 ids of the project's runs that match the search (one more than the limit
    /// says there are more), in the list's order, by <c>search_run_ids()</c> of migrations 0005 and 0016, which
    /// filters on the transaction's project itself and reads the GIN index of the criterion.
    /// </summary>
    public const string SearchSql = """
        SELECT ARRAY(SELECT id FROM search_run_ids(@Tags::text[], @Config::jsonb, @Metadata::jsonb, @NamePattern::text, @SearchOrder::text, @SearchTake)
                     WITH ORDINALITY AS found(id, position) ORDER BY position)
        """;

    /// <summary>
    /// Whether the planner expects the walk to come back short (migration 0015's <c>search_run_estimate()</c>: the
    /// matches it expects in the project, the project's runs): fewer than a page among the runs the walk reads (two
    /// for a search by config, metadata or name, <see cref="WholeValueEstimatePages"/>), and few enough to read by
    /// id. The first statement of <see cref="FirstLookStatement"/> keeps the verdict in the implicit transaction's setting <c>app.search_first</c> for the second; the function may only run volatile
    /// (it EXPLAINs), so the walk cannot call it and still be skipped by a one-time filter.
    /// </summary>
    private const string SearchFirstVerdict = """
        SELECT set_config('app.search_first', (e.matches <= @SearchLimit AND e.matches * @WalkRows < @WalkPages * @Take * e.runs)::text, true)::boolean AS search_first
        FROM search_run_estimate(@Tags::text[], @Config::jsonb, @Metadata::jsonb, @NamePattern::text) e
        """;

    /// <summary>
    /// The first look for one range's page of a search, two statements sent in one round trip: <see cref="FirstLook.Verdict"/>
    /// answers the ids the search matches (<see cref="SearchSql"/>) when the planner expects few, else null;
    /// <see cref="FirstLook.Walk"/> (<see cref="WalkStatement"/>) answers the walk's rows when it expects many, else
    /// none without reading a row (its one-time filter on the verdict).
    /// </summary>
    public static FirstLook FirstLookStatement(Guid projectId, RunListQuery query, Range range, int take)
    {
        var (walk, parameters) = WalkStatement(projectId, query, range, take);
        AddSearchParameters(parameters, query);
        parameters.Add("SearchLimit", SearchLimit);
        parameters.Add("WalkPages", SearchesByTagsAlone(query) ? 1 : WholeValueEstimatePages);
        // The verdict's statement first, so the slow-statement log names the look by its estimate.
        return new FirstLook($"WITH verdict AS ({SearchFirstVerdict}) SELECT CASE WHEN verdict.search_first THEN ({SearchSql}) END FROM verdict", walk, parameters);
    }

    /// <summary>The two statements of <see cref="FirstLookStatement"/>, the verdict first, and their parameters.</summary>
    public sealed record FirstLook(string Verdict, string Walk, DynamicParameters Parameters)
    {
        /// <summary>Both statements as one command, which runs them in one implicit transaction, in order.</summary>
        public string Sql => Verdict + ";\n" + Walk;
    }

    /// <summary>
    /// The statement that looks for one range's page of a search among the first runs of the range that pass the
    /// other filters (<see cref="WalkRowsPerPageRow"/> per run asked for), along the order's index under RLS. When it
    /// answers <paramref name="take"/> runs, they are the page. The walk reads only the columns its order and search
    /// test, so a search by tags alone, without a filter on another column, reads the order's index alone (its
    /// entries carry the tags, migration 0017; a page of runs changed since the last vacuum is still read from the
    /// table); the page's rows are then read by key. It reads nothing when the verdict before it in the same command
    /// (<see cref="SearchFirstVerdict"/>) chose the ids: a clause without a column, a one-time filter.
    /// </summary>
    private static (string Sql, DynamicParameters Parameters) WalkStatement(Guid projectId, RunListQuery query, Range range, int take)
    {
        var parameters = Parameters(projectId, take);
        parameters.Add("WalkRows", Math.Min(take * WalkRowsPerPageRow, MaxWalkRows));
        var clauses = SearchClauses(query, parameters);
        var orderBy = OrderBy(query.Sort);
        var walk = new StringBuilder("SELECT id FROM (SELECT id, ").Append(SortColumn(query.Sort)).Append(", ")
            .AppendJoin(", ", clauses.Select(c => c.Column))
            .Append(" FROM optimization_runs WHERE project_id = @ProjectId")
            .Append(" AND current_setting('app.search_first', true) IS DISTINCT FROM 'true'");
        AppendFilters(walk, parameters, query);
        AppendRange(walk, parameters, query, range);
        walk.Append(" ORDER BY ").Append(orderBy).Append(" LIMIT @WalkRows) walked WHERE ")
            .AppendJoin(" AND ", clauses.Select(c => c.Test))
            .Append(" ORDER BY ").Append(orderBy).Append(" LIMIT @Take");
        var sql = $"SELECT {Columns} FROM optimization_runs WHERE project_id = @ProjectId AND id = ANY(ARRAY({walk})) ORDER BY {orderBy}";
        return (sql, parameters);
    }

    /// <summary>The statement that finds the ids a query's search matches; null when the query has no search.</summary>
    public static (string Sql, DynamicParameters Parameters)? SearchStatement(RunListQuery query)
    {
        if (!HasSearch(query))
        {
            return null;
        }

        var parameters = new DynamicParameters();
        AddSearchParameters(parameters, query);
        return (SearchSql, parameters);
    }

    // The four criteria, each null when not given, and how many ids to ask for.
    private static void AddSearchParameters(DynamicParameters parameters, RunListQuery query)
    {
        parameters.Add("Tags", query.Tags is { Count: > 0 } tags ? tags.ToArray() : null);
        parameters.Add("Config", query.ConfigJson);
        parameters.Add("Metadata", query.MetadataJson);
        parameters.Add("NamePattern", NamePattern(query));
        parameters.Add("SearchOrder", SortColumn(query.Sort));
        parameters.Add("SearchTake", SearchLimit + 1);
    }

    /// <summary>
    /// The slices of a search's ids (in the list's order, <see cref="SearchSql"/>) that one range's page is read from
    /// by key, in turn until the page is full. The first page: twice the page first, then twice as many as the slice
    /// before; without other filters the first slice fills it, so a page of 20 among 600 matches reads 42 runs, not
    /// 600. A page after a cursor: all the ids at once, as the cursor says only where the page starts, not which of
    /// the ids it has passed (a cursor is the caller's to edit, and a score may have changed since).
    /// </summary>
    /// <remarks>
    /// The ids are ordered when the search runs and each slice is read by a later statement: a run whose score
    /// changes in between keeps the place it had among the slices, as if the list had been read a moment earlier.
    /// </remarks>
    public static IEnumerable<ArraySegment<Guid>> KeySlices(Guid[] ids, Range range, int take)
    {
        if (range != Range.FromStart)
        {
            yield return new ArraySegment<Guid>(ids);
            yield break;
        }

        for (int start = 0, length = 2 * Math.Max(take, 1); start < ids.Length; start += length, length *= 2)
        {
            yield return new ArraySegment<Guid>(ids, start, Math.Min(length, ids.Length - start));
        }
    }

    // Whether the search's only criterion is tags, whose estimate comes from statistics of each tag.
    private static bool SearchesByTagsAlone(RunListQuery query) =>
        query.Tags is { Count: > 0 } && query.ConfigJson is null && query.MetadataJson is null && NamePattern(query) is null;

    /// <summary>Whether the query has a criterion that only a GIN index serves (tags, config, metadata, name).</summary>
    public static bool HasSearch(RunListQuery query) =>
        query.Tags is { Count: > 0 } || query.ConfigJson is not null || query.MetadataJson is not null || NamePattern(query) is not null;

    // The search's clauses, each with the column it tests: each has a GIN index, which only search_run_ids() can use
    // under RLS.
    private static List<(string Column, string Test)> SearchClauses(RunListQuery query, DynamicParameters parameters)
    {
        var clauses = new List<(string Column, string Test)>();
        if (query.Tags is { Count: > 0 } tags)
        {
            clauses.Add(("tags", "tags @> @Tags"));
            parameters.Add("Tags", tags.ToArray());
        }

        if (query.ConfigJson is { } config)
        {
            clauses.Add(("config", "config @> @Config::jsonb"));
            parameters.Add("Config", config);
        }

        if (query.MetadataJson is { } metadata)
        {
            clauses.Add(("metadata", "metadata @> @Metadata::jsonb"));
            parameters.Add("Metadata", metadata);
        }

        if (NamePattern(query) is { } namePattern)
        {
            clauses.Add(("run_name", "run_name ILIKE @NamePattern"));
            parameters.Add("NamePattern", namePattern);
        }

        return clauses;
    }

    /// <summary>
    /// Reads the ranges of one list. Without a search, a range is one statement along the order's index. With one,
    /// whose GIN index row-level security keeps from the statement, the planner's estimate chooses the first look
    /// (<see cref="FirstLookStatement"/>; its verdict is kept a minute, <see cref="SearchVerdicts"/>): for a rare
    /// match, the ids <c>search_run_ids()</c> finds along the GIN index, in the list's order, read by key a slice at a
    /// time (<see cref="KeySlices"/>); for a common one, the order's index for a bounded number of runs, which a
    /// common match fills, and when it does not (the estimate was wrong), the ids after all. More than
    /// <see cref="SearchLimit"/> matches: the order's index to the page's end, as without a search.
    /// </summary>
    private sealed class PageReader(ProjectReader scope, Guid projectId, RunListQuery query, SearchVerdicts verdicts)
    {
        private bool _searched;
        private Guid[]? _searchIds;

        public async Task<List<RunSnapshot>> ReadAsync(Range range, int take)
        {
            if (!HasSearch(query))
            {
                return await QueryAsync(Statement(projectId, query, range, take));
            }

            if (!_searched)
            {
                var (matches, walked) = await FirstLookAsync(range, take);
                if (matches is null && walked.Count == take)
                {
                    return walked;
                }

                _searchIds = WithinLimit(matches ?? await SearchAsync());
                _searched = true;
            }

            return _searchIds is null
                ? await QueryAsync(Statement(projectId, query, range, take))
                : await ReadByKeyAsync(_searchIds, range, take);
        }

        // The first look, as the planner's verdict says: one statement, the ids or the walk, when a verdict is kept
        // (SearchVerdicts); else the verdict and both looks in one command (FirstLookStatement), and the verdict kept.
        private async Task<(Guid[]? Matches, List<RunSnapshot> Walked)> FirstLookAsync(Range range, int take)
        {
            switch (verdicts.IdsFirst(projectId, query, take))
            {
                case true:
                    return (await SearchAsync(), []);
                case false:
                    return (null, await QueryAsync(WalkStatement(projectId, query, range, take)));
            }

            var look = FirstLookStatement(projectId, query, range, take);
            await using var results = await scope.ReadMultipleAsync(look.Sql, look.Parameters);
            var matches = await results.ReadSingleAsync<Guid[]?>();
            var walked = (await results.ReadAsync<RunSnapshot>()).AsList();
            verdicts.Remember(projectId, query, take, idsFirst: matches is not null);
            return (matches, walked);
        }

        // The page from the ids' slices, each read by key with every filter again: the slices are in the list's
        // order, so the rows of one all come before the next one's. On the generic plan, which is the key whatever
        // the values: PostgreSQL otherwise planned a config search's read for its values on every call
        // (ReadQueryPlanTests.ASearchsReadByKeyRunsOnItsGenericPlan).
        private async Task<List<RunSnapshot>> ReadByKeyAsync(Guid[] ids, Range range, int take)
        {
            var rows = new List<RunSnapshot>(take);
            foreach (var slice in KeySlices(ids, range, take))
            {
                rows.AddRange(await QueryAsync(Statement(projectId, query, range, take - rows.Count, [.. slice]), genericPlan: true));
                if (rows.Count == take)
                {
                    break;
                }
            }

            return rows;
        }

        /// <summary>The ids the search matches, up to <see cref="SearchLimit"/> + 1.</summary>
        private async Task<Guid[]> SearchAsync()
        {
            var (sql, parameters) = SearchStatement(query)!.Value;
            return await scope.QuerySingleAsync<Guid[]>(sql, parameters);
        }

        // All the matches when they are at most SearchLimit; else null: the order's index to the page's end, even
        // where the planner expected few.
        private static Guid[]? WithinLimit(Guid[] ids) => ids.Length <= SearchLimit ? ids : null;

        private Task<List<RunSnapshot>> QueryAsync((string Sql, DynamicParameters Parameters) statement, bool genericPlan = false) =>
            scope.QueryAsync<RunSnapshot>(statement.Sql, statement.Parameters, genericPlan);
    }
}
