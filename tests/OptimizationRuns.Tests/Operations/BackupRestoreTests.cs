using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Faults;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Operations;

/// <summary>The backup and restore of docs/operations.md, done as written: pg_dump -Fc, then pg_restore into a new database.</summary>
[Trait("Category", "Operations")]
public sealed class BackupRestoreTests
{
    [Fact]
    public async Task ARestoredDatabaseAnswersTheSameRunsIterationsAndSamples()
    {
        await using var original = await ScratchDatabase.CreateAsync();
        await new Migrator(original.OwnerConnectionString, MigrationCatalog.Load(), NullLogger.Instance).UpAsync(CancellationToken.None);
        var projectId = await TrackedData.AddProjectAsync(original.OwnerConnectionString, runs: 3, iterations: 4, samples: 250);
        var other = await TrackedData.AddProjectAsync(original.OwnerConnectionString, runs: 1, iterations: 2, samples: 10);
        var dump = Path.Combine(Path.GetTempPath(), $"optruns-{Guid.NewGuid():N}.dump");
        await using var restored = await ScratchDatabase.CreateAsync();
        try
        {
            await RunAsync("pg_dump", ["--format=custom", "--file", dump], original.OwnerConnectionString);
            await RunAsync("pg_restore", ["--exit-on-error", "--single-transaction", "--dbname", restored.Name, dump], restored.OwnerConnectionString);
        }
        finally
        {
            File.Delete(dump);
        }

        var before = await TrackedData.CountAsync(original.ServiceConnectionString, projectId);
        Assert.Equal(new TrackedData.Counts(3, 12, 3000, before.ScoreSum), before);
        Assert.Equal(before, await TrackedData.CountAsync(restored.ServiceConnectionString, projectId));
        Assert.Equal(await TrackedData.CountAsync(original.ServiceConnectionString, other),
            await TrackedData.CountAsync(restored.ServiceConnectionString, other));

        // Still one project per transaction for the service role, and the migrator sees its own history.
        await using (var asService = new NpgsqlConnection(restored.ServiceConnectionString))
        {
            await asService.OpenAsync();
            Assert.Equal(0, await asService.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_samples"));
        }

        var status = await new Migrator(restored.OwnerConnectionString, MigrationCatalog.Load(), NullLogger.Instance).StatusAsync(CancellationToken.None);
        Assert.All(status, s => Assert.True(s.Applied && s.ChecksumMatches, $"{s.Version:D4}_{s.Name}"));
    }

    // As an operator types it: libpq's environment variables carry the connection, the password never the command line.
    private static async Task RunAsync(string tool, IReadOnlyList<string> arguments, string connectionString)
    {
        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        var info = new ProcessStartInfo(Path.Combine(PostgresServer.BinDirectory(), tool), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["PGHOST"] = connection.Host;
        info.Environment["PGPORT"] = connection.Port.ToString();
        info.Environment["PGDATABASE"] = connection.Database;
        info.Environment["PGUSER"] = connection.Username;
        info.Environment["PGPASSWORD"] = connection.Password;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{tool} exited with {process.ExitCode}:\n{await output}\n{await errors}");
    }
}
