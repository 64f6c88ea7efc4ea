using Dapper;
using Npgsql;

namespace OptimizationRuns.Tests.Migrations;

/// <summary>
/// Everything a migration can create in the public schema, as sorted text lines: tables and
/// columns, indexes, constraints, policies, functions, triggers, views, extensions and grants.
/// Two equal snapshots mean two equal schemas.
/// </summary>
public static class CatalogSnapshot
{
    private const string Sql = """
        SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable
               || ' default=' || COALESCE(column_default, '') || ' generated=' || COALESCE(generation_expression, '')
        FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL
        SELECT 'index ' || i.indexname || ' ' || i.indexdef || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END
        FROM pg_indexes i JOIN pg_index x ON x.indexrelid = format('%I.%I', i.schemaname, i.indexname)::regclass
        WHERE i.schemaname = 'public'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass || '.' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'policy ' || tablename || '.' || policyname || ' ' || cmd || ' ' || COALESCE(qual, '') || ' ' || COALESCE(with_check, '')
        FROM pg_policies WHERE schemaname = 'public'
        UNION ALL
        SELECT 'rls ' || relname || ' ' || relrowsecurity FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid)) || ' acl=' || COALESCE(p.proacl::text, '')
        FROM pg_proc p LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
        WHERE p.pronamespace = 'public'::regnamespace AND d.objid IS NULL
        UNION ALL
        SELECT 'trigger ' || tgrelid::regclass || '.' || tgname || ' ' || pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL
        SELECT 'view ' || matviewname || ' ' || md5(definition) FROM pg_matviews WHERE schemaname = 'public'
        UNION ALL
        SELECT 'extension ' || extname FROM pg_extension
        UNION ALL
        SELECT 'grant ' || table_name || ' ' || grantee || ' ' || privilege_type
        FROM information_schema.role_table_grants WHERE table_schema = 'public'
        UNION ALL
        SELECT 'comment ' || c.relname || ' ' || d.description
        FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
        WHERE c.relnamespace = 'public'::regnamespace
        """;

    /// <summary>The sorted lines describing the public schema of the database behind <paramref name="connectionString"/>.</summary>
    public static async Task<IReadOnlyList<string>> TakeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return (await connection.QueryAsync<string>(Sql)).Order(StringComparer.Ordinal).ToList();
    }
}
