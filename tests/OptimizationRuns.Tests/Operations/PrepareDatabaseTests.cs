using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Silo.Migrations;
using Xunit;

namespace OptimizationRuns.Tests.Operations;

/// <summary>
/// "Use your own PostgreSQL": <c>prepare-database</c> against a server of the test's own that has none of our roles,
/// logged in as a role with CREATEROLE and CREATEDB but no superuser (what a managed PostgreSQL's admin login has),
/// and the printed SQL a DBA runs instead.
/// </summary>
[Trait("Category", "Operations")]
public sealed class PrepareDatabaseTests : IAsyncLifetime
{
    private BareServer _server = null!;

    public async Task InitializeAsync() => _server = await BareServer.StartNewAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AFreshServerIsPreparedAndThePrintedConnectionStringsWorkUnderRls()
    {
        var admin = await CreateLoginAsync("dba", "CREATEROLE CREATEDB");

        var prepared = await SiloCommand.RunAsync(["prepare-database", "--admin", admin]);

        Assert.True(prepared.ExitCode == 0, prepared.ToString());
        var owner = prepared.Exported("ConnectionStrings__PostgresOwner");
        var service = prepared.Exported("ConnectionStrings__Postgres");
        var status = await new Migrator(owner, MigrationCatalog.Load(), NullLogger.Instance).StatusAsync(CancellationToken.None);
        Assert.All(status, s => Assert.True(s.Applied, $"{s.Version:D4}_{s.Name}"));

        var projectId = Guid.NewGuid();
        await using (var asOwner = await OpenAsync(owner))
        {
            await asOwner.ExecuteAsync("INSERT INTO project_config (id, name) VALUES (@projectId, 'mine')", new { projectId });
            await asOwner.ExecuteAsync("INSERT INTO optimization_runs (project_id, run_name, optimizer_type) VALUES (@projectId, 'r', 'miprov2')", new { projectId });
        }

        await using var asService = await OpenAsync(service);
        Assert.Equal("optruns_service", await asService.ExecuteScalarAsync<string>("SELECT current_user"));
        Assert.Equal(0, await asService.ExecuteScalarAsync<int>("SELECT count(*) FROM optimization_runs"));
        await using var transaction = await asService.BeginTransactionAsync();
        await asService.ExecuteAsync("SELECT set_config('app.project_id', @p, true)", new { p = projectId.ToString() }, transaction);
        Assert.Equal(1, await asService.ExecuteScalarAsync<int>("SELECT count(*) FROM optimization_runs", transaction: transaction));
    }

    [Fact]
    public async Task RunningItAgainNeedsThePasswordsAndThenChangesNothing()
    {
        var admin = await CreateLoginAsync("dba", "CREATEROLE CREATEDB");
        var first = await SiloCommand.RunAsync(["prepare-database", "--admin", admin, "--database", "tracker"]);
        Assert.True(first.ExitCode == 0, first.ToString());

        var without = await SiloCommand.RunAsync(["prepare-database", "--admin", admin, "--database", "tracker"]);
        Assert.Equal(1, without.ExitCode);
        Assert.Contains("--owner-password", without.Errors + without.Output);

        var ownerPassword = new NpgsqlConnectionStringBuilder(first.Exported("ConnectionStrings__PostgresOwner")).Password!;
        var servicePassword = new NpgsqlConnectionStringBuilder(first.Exported("ConnectionStrings__Postgres")).Password!;
        var again = await SiloCommand.RunAsync(["prepare-database", "--admin", admin, "--database", "tracker",
            "--owner-password", ownerPassword, "--service-password", servicePassword]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(first.Output, again.Output);
        Assert.Contains("0 applied now", again.Errors + again.Output);
    }

    [Fact]
    public async Task OnlyOurRolesMayConnectToThePreparedDatabase()
    {
        var admin = await CreateLoginAsync("dba", "CREATEROLE CREATEDB");
        var prepared = await SiloCommand.RunAsync(["prepare-database", "--admin", admin]);
        Assert.True(prepared.ExitCode == 0, prepared.ToString());
        var stranger = await CreateLoginAsync("stranger", "");

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            OpenAsync(new NpgsqlConnectionStringBuilder(stranger) { Database = "optruns" }.ConnectionString));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    [Fact]
    public async Task TheSqlForADbaPreparesTheServerAndMigrateUpCompletesIt()
    {
        var dba = await CreateLoginAsync("dba", "CREATEROLE CREATEDB");
        var printed = await SiloCommand.RunAsync(["prepare-database", "--print-sql", "--database", "teamdb",
            "--owner-password", "owner-secret", "--service-password", "service-secret"]);
        Assert.True(printed.ExitCode == 0, printed.ToString());

        // As psql -f would: one statement at a time, as the DBA's login.
        await using (var connection = await OpenAsync(dba))
        {
            foreach (var statement in SqlStatements.Split(printed.Output))
            {
                await connection.ExecuteAsync(statement);
            }
        }

        var owner = new NpgsqlConnectionStringBuilder(dba) { Database = "teamdb", Username = "optruns_owner", Password = "owner-secret" }.ConnectionString;
        var migrated = await SiloCommand.RunAsync(["migrate", "up"], new Dictionary<string, string> { ["ConnectionStrings__PostgresOwner"] = owner });
        Assert.True(migrated.ExitCode == 0, migrated.ToString());
        await using var asService = await OpenAsync(
            new NpgsqlConnectionStringBuilder(owner) { Username = "optruns_service", Password = "service-secret" }.ConnectionString);
        Assert.Equal(0, await asService.ExecuteScalarAsync<int>("SELECT count(*) FROM optimization_samples"));
    }

    [Fact]
    public async Task ALoginWithoutCreateRoleIsPointedAtTheSqlForADba()
    {
        var weak = await CreateLoginAsync("weak", "CREATEDB");

        var refused = await SiloCommand.RunAsync(["prepare-database", "--admin", weak]);

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--print-sql", refused.Errors + refused.Output);
    }

    private async Task<string> CreateLoginAsync(string role, string attributes)
    {
        var password = Guid.NewGuid().ToString("N");
        await using var connection = await _server.OpenSuperuserAsync();
        await connection.ExecuteAsync($"CREATE ROLE {role} LOGIN {attributes} PASSWORD '{password}'");
        return new NpgsqlConnectionStringBuilder(_server.SuperuserConnectionString) { Username = role, Password = password }.ConnectionString;
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
