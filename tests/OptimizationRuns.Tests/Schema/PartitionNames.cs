using System.Text.Json.Nodes;
using Dapper;
using Npgsql;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// Names a partition's table, index and constraint by the partitioned ones they belong to (<c>pg_inherits</c> and
/// <c>pg_constraint.conparentid</c>, followed to the root), so a test names the index or key it was written for whether
/// or not the table is partitioned: since migration 0014 EXPLAIN shows <c>optimization_samples_p06_pkey</c> where it
/// showed <c>optimization_samples_pk</c>, and a duplicate sample is reported against the partition's key.
/// </summary>
public static class PartitionNames
{
    private const string RootsSql = """
        WITH RECURSIVE up (child, parent) AS (
            SELECT inhrelid, inhparent FROM pg_inherits
            UNION ALL
            SELECT up.child, i.inhparent FROM up JOIN pg_inherits i ON i.inhrelid = up.parent)
        SELECT c.relname AS Child, p.relname AS Root
        FROM up JOIN pg_class c ON c.oid = up.child JOIN pg_class p ON p.oid = up.parent
        WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = up.parent)
        """;

    private const string RootConstraintSql = """
        WITH RECURSIVE up (oid, conname, conparentid) AS (
            SELECT oid, conname, conparentid FROM pg_constraint WHERE conrelid = to_regclass(@table) AND conname = @name
            UNION ALL
            SELECT c.oid, c.conname, c.conparentid FROM up JOIN pg_constraint c ON c.oid = up.conparentid)
        SELECT conname FROM up WHERE conparentid = 0
        """;

    private static readonly string[] NamedKeys = ["Relation Name", "Index Name"];

    private sealed record Inheritance(string Child, string Root);

    /// <summary>
    /// <c>EXPLAIN (FORMAT JSON)</c> of <paramref name="sql"/>, each partition's <c>Relation Name</c> and <c>Index Name</c>
    /// replaced by its partitioned parent's (the partition's own kept as <c>Partition Relation Name</c>, <c>Partition Index Name</c>).
    /// </summary>
    public static async Task<string> ExplainAsync(NpgsqlConnection connection, string sql, object? parameters, NpgsqlTransaction? transaction,
        bool analyze = false)
    {
        var json = await connection.QuerySingleAsync<string>(new CommandDefinition(
            $"EXPLAIN ({(analyze ? "ANALYZE, " : "")}FORMAT JSON) {sql}", parameters, transaction));
        var roots = (await connection.QueryAsync<Inheritance>(new CommandDefinition(RootsSql, transaction: transaction)))
            .ToDictionary(r => r.Child, r => r.Root);
        var plan = JsonNode.Parse(json)!;
        NameByRoots(plan, roots);
        return plan.ToJsonString();
    }

    /// <summary>The constraint <paramref name="name"/> of <paramref name="table"/>, or the partitioned table's it was cloned from.</summary>
    public static async Task<string?> RootConstraintAsync(NpgsqlConnection connection, string? table, string? name) =>
        table is null || name is null
            ? name
            : await connection.QuerySingleOrDefaultAsync<string>(RootConstraintSql, new { table, name }) ?? name;

    private static void NameByRoots(JsonNode? node, IReadOnlyDictionary<string, string> roots)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    NameByRoots(item, roots);
                }

                break;
            case JsonObject obj:
                foreach (var key in NamedKeys)
                {
                    if (obj[key] is JsonValue value && value.TryGetValue<string>(out var name) && roots.TryGetValue(name, out var root))
                    {
                        obj[key] = root;
                        obj["Partition " + key] = name;
                    }
                }

                foreach (var (_, child) in obj.ToList())
                {
                    NameByRoots(child, roots);
                }

                break;
        }
    }
}
