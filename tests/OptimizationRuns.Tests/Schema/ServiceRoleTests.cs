using Dapper;
using Npgsql;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>What the service role is and is not: it owns nothing, bypasses nothing, and reads analytics only through the function.</summary>
public sealed class ServiceRoleTests
{
    [Fact]
    public async Task ServiceRoleOwnsNoTableOrView()
    {
        await using var connection = await TestDatabase.OpenServiceAsync();

        var owned = await connection.QueryAsync<string>(
            """
            SELECT tablename FROM pg_tables WHERE tableowner = current_user
            UNION ALL SELECT matviewname FROM pg_matviews WHERE matviewowner = current_user
            """);
        var tables = await connection.QuerySingleAsync<long>("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");

        Assert.Empty(owned);
        Assert.True(tables >= 5, "the schema's tables are visible in pg_tables");
    }

    [Fact]
    public async Task ServiceRoleIsNeitherSuperuserNorExemptFromRowSecurity()
    {
        await using var connection = await TestDatabase.OpenServiceAsync();

        var (super, bypass) = await connection.QuerySingleAsync<(bool, bool)>(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user");

        Assert.False(super);
        Assert.False(bypass);
    }

    [Fact]
    public async Task EveryTableWithAProjectHasRowLevelSecurity()
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();

        var unprotected = await connection.QueryAsync<string>(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND (c.relname = 'project_config' OR EXISTS (
                  SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'project_id' AND NOT a.attisdropped))
              AND (NOT c.relrowsecurity OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
            """);

        Assert.Empty(unprotected);
    }

    [Fact]
    public async Task ServiceCannotReadTheAnalyticsViewDirectly()
    {
        var project = await TestDatabase.CreateProjectAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => Service.InProjectAsync(project, (connection, transaction) =>
            connection.QueryAsync("SELECT * FROM optimization_run_analytics", transaction: transaction)));

        Assert.Equal("42501", error.SqlState);
    }
}
