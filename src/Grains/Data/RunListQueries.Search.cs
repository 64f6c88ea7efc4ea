using System.Text;
using Dapper;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The run list's searches (tags, config, metadata, name) under row-level security, which keeps their GIN indexes
/// from the list statement: their operators are not LEAKPROOF. Migration 0005 gives the service
/// <c>search_run_ids()</c>, which reads those indexes for the transaction's project only.
/// </summary>
public sealed partial class RunListQueries
{
    /// <summary>
    /// A search first looks for its page among this many runs of the order per run asked for (2,100 for a page of 20
    /// and the look-ahead row), at most <see cref="MaxWalkRows"/>: a match of one run in 100 or more fills the page
    /// there, as cheaply as before. Below that, finding every match by its GIN index and reading them by key costs
    /// less than walking on; measured in BENCHMARKS.md (50 and 150 per row cost more over the benchmark's mixes).
    /// </summary>
    public const int WalkRowsPerPageRow = 100;

    /// <summary>The most runs the first look walks, whatever the page size.</summary>
    public const int MaxWalkRows = 5_000;

    /// <summary>
    /// A search that matches at most this many of the project's runs is read by their ids (the primary key, then a
    /// sort of those few); one that matches more walks the order's index and filters.
    /// </summary>
    public const int SearchLimit = 1_000;

    /// <summary>
    /// Up to <see cref="SearchLimit"/> + 1 ids of the project's runs that match the search (one more than the limit
    /// says there are more), by <c>search_run_ids()</c> of migration 0005, which filters on the transaction's project
    /// itself and reads the GIN index of the criterion.
    /// </summary>
    public const string SearchSql = """
        SELECT ARRAY(SELECT search_run_ids(@Tags::text[], @Config::jsonb, @Metadata::jsonb, @NamePattern::text, @SearchTake))
        """;

    /// <summary>
    /// The statement that looks for one range's page of a search among the first runs of the range that pass the
    /// other filters (<see cref="WalkRowsPerPageRow"/> per run asked for), along the order's index under RLS. When it
    /// answers <paramref name="take"/> runs, they are the page.
    /// </summary>
    public static (string Sql, DynamicParameters Parameters) WalkStatement(Guid projectId, RunListQuery query, Range range, int take)
    {
        var parameters = Parameters(projectId, take);
        parameters.Add("WalkRows", Math.Min(take * WalkRowsPerPageRow, MaxWalkRows));
        // The inner rows are whole rows, so the outer clauses and columns name the table's columns.
        var sql = new StringBuilder("SELECT ").Append(Columns).Append(" FROM (SELECT * FROM optimization_runs WHERE project_id = @ProjectId");
        AppendFilters(sql, parameters, query);
        AppendRange(sql, parameters, query, range);
        sql.Append(" ORDER BY ").Append(OrderBy(query.Sort)).Append(" LIMIT @WalkRows) walked WHERE ")
            .AppendJoin(" AND ", SearchClauses(query, parameters))
            .Append(" ORDER BY ").Append(OrderBy(query.Sort)).Append(" LIMIT @Take");
        return (sql.ToString(), parameters);
    }

    /// <summary>The statement that finds the ids a query's search matches; null when the query has no search.</summary>
    public static (string Sql, DynamicParameters Parameters)? SearchStatement(RunListQuery query)
    {
        if (!HasSearch(query))
        {
            return null;
        }

        var parameters = new DynamicParameters();
        parameters.Add("Tags", query.Tags is { Count: > 0 } tags ? tags.ToArray() : null);
        parameters.Add("Config", query.ConfigJson);
        parameters.Add("Metadata", query.MetadataJson);
        parameters.Add("NamePattern", NamePattern(query));
        parameters.Add("SearchTake", SearchLimit + 1);
        return (SearchSql, parameters);
    }

    /// <summary>Whether the query has a criterion that only a GIN index serves (tags, config, metadata, name).</summary>
    public static bool HasSearch(RunListQuery query) =>
        query.Tags is { Count: > 0 } || query.ConfigJson is not null || query.MetadataJson is not null || NamePattern(query) is not null;

    // The search's clauses: each has a GIN index, which only search_run_ids() can use under RLS.
    private static List<string> SearchClauses(RunListQuery query, DynamicParameters parameters)
    {
        var clauses = new List<string>();
        if (query.Tags is { Count: > 0 } tags)
        {
            clauses.Add("tags @> @Tags");
            parameters.Add("Tags", tags.ToArray());
        }

        if (query.ConfigJson is { } config)
        {
            clauses.Add("config @> @Config::jsonb");
            parameters.Add("Config", config);
        }

        if (query.MetadataJson is { } metadata)
        {
            clauses.Add("metadata @> @Metadata::jsonb");
            parameters.Add("Metadata", metadata);
        }

        if (NamePattern(query) is { } namePattern)
        {
            clauses.Add("run_name ILIKE @NamePattern");
            parameters.Add("NamePattern", namePattern);
        }

        return clauses;
    }

    /// <summary>
    /// Reads the ranges of one list in its transaction. Without a search, a range is one statement along the order's
    /// index. With one, whose GIN index row-level security keeps from the statement: first the order's index for a
    /// bounded number of runs (<see cref="WalkStatement"/>: a common match fills the page there); failing that, the
    /// ids <c>search_run_ids()</c> finds along the GIN index, read by key (a rare match); failing that (more than
    /// <see cref="SearchLimit"/> matches), the order's index to the page's end, as without a search.
    /// </summary>
    private sealed class PageReader(ProjectReader scope, Guid projectId, RunListQuery query)
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
                var walked = await QueryAsync(WalkStatement(projectId, query, range, take));
                if (walked.Count == take)
                {
                    return walked;
                }

                _searchIds = await SearchAsync();
                _searched = true;
            }

            return _searchIds switch
            {
                null => await QueryAsync(Statement(projectId, query, range, take)),
                { Length: 0 } => [],
                var ids => await QueryAsync(Statement(projectId, query, range, take, ids)),
            };
        }

        /// <summary>All the runs the search matches when they are at most <see cref="SearchLimit"/>; else null.</summary>
        private async Task<Guid[]?> SearchAsync()
        {
            var (sql, parameters) = SearchStatement(query)!.Value;
            var ids = await scope.QuerySingleAsync<Guid[]>(sql, parameters);
            return ids.Length <= SearchLimit ? ids : null;
        }

        private Task<List<RunSnapshot>> QueryAsync((string Sql, DynamicParameters Parameters) statement) =>
            scope.QueryAsync<RunSnapshot>(statement.Sql, statement.Parameters);
    }
}
