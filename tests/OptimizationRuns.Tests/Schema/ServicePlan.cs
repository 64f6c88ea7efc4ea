using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// Plans and index use as the service role sees them: a connection as <c>optruns_service</c> with one transaction
/// that sets the project as the silo does (<c>set_config('app.project_id', …, true)</c>), so row-level security applies
/// to every statement. Disposing rolls the transaction back.
/// </summary>
public sealed class ServicePlan : IAsyncDisposable
{
    private ServicePlan(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    /// <summary>A service-role transaction on <paramref name="database"/> for <paramref name="projectId"/>.</summary>
    public static async Task<ServicePlan> BeginAsync(ScratchDatabase database, Guid projectId)
    {
        var connection = new NpgsqlConnection(database.ServiceConnectionString);
        await connection.OpenAsync();
        var transaction = await TestDatabase.BeginProjectTransactionAsync(connection, projectId);
        return new ServicePlan(connection, transaction);
    }

    /// <summary>
    /// The plan of <paramref name="sql"/> (EXPLAIN, ordinary planner settings) with these parameter values, partitions
    /// named by their partitioned table and index (<see cref="PartitionNames"/>).
    /// </summary>
    /// With <paramref name="analyze"/>, the statement runs and the plan carries what each node did.
    public async Task<Plan> ExplainAsync(string sql, object? parameters = null, bool analyze = false)
    {
        var json = await PartitionNames.ExplainAsync(Connection, sql, parameters, Transaction, analyze);
        return new Plan(json, Plan.NodesOf(JsonDocument.Parse(json).RootElement).ToList());
    }

    /// <summary>
    /// The generic plan of <paramref name="sql"/>, the one a prepared statement runs on under
    /// <c>plan_cache_mode = force_generic_plan</c> (the silo's list reads, <c>ProjectReader</c>): planned for every
    /// value of its parameters, not for these. EXPLAIN of a statement with parameters plans it for their values, so
    /// the statement is prepared here (<c>PREPARE</c> with each parameter's type) and explained as it is executed.
    /// </summary>
    public async Task<Plan> ExplainGenericAsync(string sql, DynamicParameters parameters)
    {
        var names = parameters.ParameterNames.ToList();
        var positional = Regex.Replace(sql, @"@([A-Za-z_]\w*)", m =>
            names.IndexOf(m.Groups[1].Value) is var k and >= 0 ? "$" + (k + 1) : m.Value);
        var types = names.Select(n => SqlType(n, parameters.Get<object?>(n)));
        await Connection.ExecuteAsync(new CommandDefinition(
            "SET LOCAL plan_cache_mode = force_generic_plan", transaction: Transaction));
        await Connection.ExecuteAsync(new CommandDefinition(
            $"PREPARE generic_read ({string.Join(", ", types)}) AS {positional}", transaction: Transaction));
        // EXECUTE's arguments are not planned with the statement around them, so they cannot be parameters themselves.
        var execute = $"EXECUTE generic_read ({string.Join(", ", names.Select(n => Literal(parameters.Get<object?>(n))))})";
        var json = await PartitionNames.ExplainAsync(Connection, execute, null, Transaction);
        await Connection.ExecuteAsync(new CommandDefinition("DEALLOCATE generic_read", transaction: Transaction));
        return new Plan(json, Plan.NodesOf(JsonDocument.Parse(json).RootElement).ToList());
    }

    // A test's own value as an SQL literal, which PREPARE's declared type then reads.
    private static string Literal(object? value) => value switch
    {
        string[] texts => Literal("{" + string.Join(",", texts.Select(t => "\"" + t.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"")) + "}"),
        Guid[] ids => Literal("{" + string.Join(",", ids) + "}"),
        DateTime time => Literal(time.ToString("O", CultureInfo.InvariantCulture)),
        IFormattable number => Literal(number.ToString(null, CultureInfo.InvariantCulture)),
        bool flag => flag ? "true" : "false",
        _ => "'" + value!.ToString()!.Replace("'", "''") + "'",
    };

    // The type Npgsql sends a parameter's value as, which PREPARE must name: a null has none to infer.
    private static string SqlType(string name, object? value) => value switch
    {
        Guid => "uuid",
        Guid[] => "uuid[]",
        int => "integer",
        long => "bigint",
        decimal => "numeric",
        bool => "boolean",
        DateTime => "timestamptz",
        string => "text",
        string[] => "text[]",
        _ => throw new ArgumentException($"parameter {name}: no SQL type for {value?.GetType().Name ?? "null"}", nameof(name)),
    };

    /// <summary>
    /// Runs <paramref name="sql"/> and counts the scans it made of each relation: index scans (plain or bitmap) for an
    /// index, sequential scans for a table. Counted by the server for this transaction, so they include the scans
    /// made inside SECURITY DEFINER functions, whose plans EXPLAIN does not show.
    /// </summary>
    public Task<(T Result, Dictionary<string, long> Scans)> CountScansAsync<T>(
        string sql, object? parameters, params string[] relations) =>
        CountScansAsync(() => Connection.QuerySingleAsync<T>(new CommandDefinition(sql, parameters, Transaction)), relations);

    /// <summary>Runs <paramref name="statements"/> in this transaction and counts their scans, as above.</summary>
    public async Task<(T Result, Dictionary<string, long> Scans)> CountScansAsync<T>(
        Func<Task<T>> statements, params string[] relations)
    {
        var before = await ScansAsync(relations);
        var result = await statements();
        var after = await ScansAsync(relations);
        return (result, relations.ToDictionary(r => r, r => after[r] - before[r]));
    }

    private async Task<Dictionary<string, long>> ScansAsync(string[] relations)
    {
        var counts = new Dictionary<string, long>();
        foreach (var relation in relations)
        {
            counts[relation] = await Connection.QuerySingleAsync<long>(new CommandDefinition(
                "SELECT pg_stat_get_xact_numscans(@relation::regclass)", new { relation }, Transaction));
        }

        return counts;
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

/// <summary>An EXPLAIN (FORMAT JSON) document and its plan nodes, depth first.</summary>
public sealed record Plan(string Json, IReadOnlyList<JsonElement> Nodes)
{
    /// <summary>The indexes the plan reads.</summary>
    public IReadOnlyList<string> Indexes =>
        Nodes.Where(n => n.TryGetProperty("Index Name", out _)).Select(n => n.GetProperty("Index Name").GetString()!).ToList();

    /// <summary>Whether the plan sorts rows itself (the index did not give the order).</summary>
    public bool Sorts => Nodes.Any(n => n.GetProperty("Node Type").GetString() is "Sort" or "Incremental Sort");

    /// <summary>
    /// The most rows one of the plan's sorts took in, from the node below it (EXPLAIN ANALYZE only; 0 without a
    /// sort): a sort of a page's few rows costs nothing, one of every row a scan passed does.
    /// </summary>
    public long RowsSorted => Nodes
        .Where(n => n.GetProperty("Node Type").GetString() is "Sort" or "Incremental Sort")
        .Select(n => n.GetProperty("Plans")[0])
        .Select(input => (long)(input.GetProperty("Actual Rows").GetDouble() * input.GetProperty("Actual Loops").GetDouble()))
        .DefaultIfEmpty(0).Max();

    /// <summary>
    /// Whether the plan reads <paramref name="index"/> without the table's rows behind it: an index-only scan that
    /// fetched no row from the heap (EXPLAIN ANALYZE only; on a vacuumed table, every page is all-visible).
    /// </summary>
    public bool ReadsAlone(string index) => Nodes.Any(n =>
        n.GetProperty("Node Type").GetString() == "Index Only Scan" && n.GetProperty("Index Name").GetString() == index
        && n.GetProperty("Heap Fetches").GetDouble() == 0);

    /// <summary>The tables the plan reads from end to end.</summary>
    public IReadOnlyList<string> SequentialScans =>
        Nodes.Where(n => n.GetProperty("Node Type").GetString() == "Seq Scan").Select(n => n.GetProperty("Relation Name").GetString()!).ToList();

    /// <summary>Rows the plan's scans of <paramref name="table"/> returned, over all their loops (EXPLAIN ANALYZE only).</summary>
    public long RowsRead(string table) => Nodes
        .Where(n => n.TryGetProperty("Relation Name", out var relation) && relation.GetString() == table)
        .Sum(n => (long)(n.GetProperty("Actual Rows").GetDouble() * n.GetProperty("Actual Loops").GetDouble()));

    /// <summary>Whether the plan reads one of the <c>|</c>-separated indexes.</summary>
    public bool Uses(string indexes) => indexes.Split('|').Any(Indexes.Contains);

    public override string ToString() => $"indexes [{string.Join(", ", Indexes)}]:\n{Json}";

    internal static IEnumerable<JsonElement> NodesOf(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            return element.EnumerateArray().SelectMany(NodesOf);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        var self = element.TryGetProperty("Node Type", out _) ? [element] : Enumerable.Empty<JsonElement>();
        return self.Concat(element.EnumerateObject().Where(p => p.Name is "Plan" or "Plans").SelectMany(p => NodesOf(p.Value)));
    }
}
