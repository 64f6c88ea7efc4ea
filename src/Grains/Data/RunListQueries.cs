using System.Text;
using Dapper;
using Npgsql;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// Lists of a project's runs: filters chosen from a fixed set of clauses, values always parameters, and keyset
/// pages in the order of the migration's indexes (<c>… DESC NULLS LAST, id DESC</c>), so a page costs an index
/// range however deep it is and stays stable while runs are added. A search (tags, config, metadata, name) cannot
/// use its GIN index under row-level security, so it is read in a few steps (RunListQueries.Search.cs).
/// </summary>
public sealed partial class RunListQueries(NpgsqlDataSource dataSource)
{
    private readonly SearchVerdicts _verdicts = new();

    /// <summary>Every column a run answer shows, named (not <c>*</c>) so a new column is a decision.</summary>
    public const string Columns = RowMapping.RunColumns;

    /// <summary>One index range of a list's order, after <see cref="RunListQuery.After"/> where there is one.</summary>
    public enum Range
    {
        /// <summary>The first page: the whole order.</summary>
        FromStart,
        /// <summary>After the position: for a score order, the runs with a score only.</summary>
        After,
        /// <summary>The runs without the score after the position (which is one of them).</summary>
        UnscoredAfter,
        /// <summary>All runs without the score, which follow every scored run.</summary>
        Unscored,
    }

    /// <summary>
    /// Up to <paramref name="take"/> runs after <see cref="RunListQuery.After"/> in the query's order. A page that
    /// crosses from scored runs to unscored ones (which sort last) reads the two ranges one after the other, each
    /// along its index, rather than one <c>OR</c> the planner could only filter.
    /// </summary>
    public async Task<List<RunSnapshot>> ListAsync(Guid projectId, RunListQuery query, int take, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectReader.OpenAsync(dataSource, projectId, RunsOnGenericPlan(query), cancellationToken);
        var range = query.After switch
        {
            null => Range.FromStart,
            { Score: null } when query.Sort != RunSort.CreatedAt => Range.UnscoredAfter,
            _ => Range.After,
        };
        var reader = new PageReader(scope, projectId, query, _verdicts);
        var rows = await reader.ReadAsync(range, take);
        if (range == Range.After && query.Sort != RunSort.CreatedAt && rows.Count < take)
        {
            // A row comparison is false for a NULL score, so the first range held the scored runs only.
            rows.AddRange(await reader.ReadAsync(Range.Unscored, take - rows.Count));
        }

        return rows;
    }

    /// <summary>
    /// Whether the list's statements run on their generic plan, planned once for every value (ProjectReader), rather
    /// than planned again for each request's values: only where the plan cannot depend on them, as every filter is a
    /// key column of the order's own index (a status in any order, migrations 0001 and 0018; an optimizer, newest
    /// first). A filter the order's index does not lead with is as selective as its value, which only a plan for the
    /// values sees: an optimizer in a score order, a minimum score, a creation window. A search keeps PostgreSQL's
    /// choice too (generic plans cost it 0.2 ms more in the benchmark).
    /// </summary>
    public static bool RunsOnGenericPlan(RunListQuery query) =>
        !HasSearch(query) && query.MinScore is null && query.CreatedAfter is null && query.CreatedBefore is null
        && (query.OptimizerType is null || (query.Status is null && query.Sort == RunSort.CreatedAt));

    /// <summary>
    /// The statement that reads one <paramref name="range"/> of the list: fixed clauses, values as parameters. With
    /// <paramref name="searchIds"/> (runs the search matches, from <see cref="SearchStatement"/>, or a slice of them)
    /// it reads those runs by their key and tests every filter again.
    /// </summary>
    public static (string Sql, DynamicParameters Parameters) Statement(
        Guid projectId, RunListQuery query, Range range, int take, Guid[]? searchIds = null)
    {
        var parameters = Parameters(projectId, take);
        var sql = new StringBuilder("SELECT ").Append(Columns).Append(" FROM optimization_runs WHERE project_id = @ProjectId");
        if (searchIds is not null)
        {
            sql.Append(" AND id = ANY(@SearchIds)");
            parameters.Add("SearchIds", searchIds);
        }

        AppendFilters(sql, parameters, query);
        foreach (var clause in SearchClauses(query, parameters))
        {
            sql.Append(" AND ").Append(clause.Test);
        }

        AppendRange(sql, parameters, query, range);
        sql.Append(" ORDER BY ").Append(OrderBy(query.Sort)).Append(" LIMIT @Take");
        return (sql.ToString(), parameters);
    }

    private static DynamicParameters Parameters(Guid projectId, int take)
    {
        var parameters = new DynamicParameters();
        parameters.Add("ProjectId", projectId);
        parameters.Add("Take", take);
        return parameters;
    }

    // The filters an index on (project_id, …) serves or that cost nothing to test on a row.
    private static void AppendFilters(StringBuilder sql, DynamicParameters parameters, RunListQuery query)
    {
        if (query.Status is { } status)
        {
            sql.Append(" AND status = @Status");
            parameters.Add("Status", status.ToName());
        }

        if (query.OptimizerType is { } optimizerType)
        {
            sql.Append(" AND optimizer_type = @OptimizerType");
            parameters.Add("OptimizerType", optimizerType.ToName());
        }

        if (query.MinScore is { } minScore)
        {
            sql.Append(" AND COALESCE(final_score, best_score) >= @MinScore");
            parameters.Add("MinScore", minScore);
        }

        if (query.CreatedAfter is { } createdAfter)
        {
            sql.Append(" AND created_at >= @CreatedAfter");
            parameters.Add("CreatedAfter", createdAfter.UtcDateTime);
        }

        if (query.CreatedBefore is { } createdBefore)
        {
            sql.Append(" AND created_at < @CreatedBefore");
            parameters.Add("CreatedBefore", createdBefore.UtcDateTime);
        }
    }

    private static void AppendRange(StringBuilder sql, DynamicParameters parameters, RunListQuery query, Range range)
    {
        var column = SortColumn(query.Sort);
        var after = query.After;
        switch (range)
        {
            case Range.After when query.Sort == RunSort.CreatedAt:
                sql.Append(" AND (created_at, id) < (@AfterCreatedAt, @AfterId)");
                parameters.Add("AfterCreatedAt", after!.CreatedAt!.Value.UtcDateTime);
                parameters.Add("AfterId", after.Id);
                break;
            case Range.After:
                sql.Append(" AND (").Append(column).Append(", id) < (@AfterScore, @AfterId)");
                parameters.Add("AfterScore", after!.Score!.Value);
                parameters.Add("AfterId", after.Id);
                break;
            case Range.UnscoredAfter:
                sql.Append(" AND ").Append(column).Append(" IS NULL AND id < @AfterId");
                parameters.Add("AfterId", after!.Id);
                break;
            case Range.Unscored:
                sql.Append(" AND ").Append(column).Append(" IS NULL");
                break;
        }
    }

    /// <summary>The column a score order sorts by; <c>created_at</c> for the default order.</summary>
    private static string SortColumn(RunSort sort) => sort switch
    {
        RunSort.FinalScore => "final_score",
        RunSort.BestScore => "best_score",
        RunSort.Improvement => "improvement",
        _ => "created_at",
    };

    // Exactly the indexes' order, so each index gives the order and the LIMIT stops the scan.
    private static string OrderBy(RunSort sort) => sort == RunSort.CreatedAt
        ? "created_at DESC, id DESC"
        : $"{SortColumn(sort)} DESC NULLS LAST, id DESC";

    /// <summary>The ILIKE pattern of the name search, the text anywhere in the name; null without one.</summary>
    private static string? NamePattern(RunListQuery query) =>
        string.IsNullOrEmpty(query.NameContains) ? null : "%" + EscapeLike(query.NameContains) + "%";

    /// <summary>The text as a literal LIKE pattern: its <c>%</c>, <c>_</c> and <c>\</c> match themselves.</summary>
    public static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal)
            .Replace("%", @"\%", StringComparison.Ordinal)
            .Replace("_", @"\_", StringComparison.Ordinal);
}
