using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Operations;
using OptimizationRuns.Tests.Schema;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Migrations;

/// <summary>
/// Migration 0014 (samples hash-partitioned by run_id) on a populated database: samples move into the partitioned
/// table with every row kept, while a writer keeps inserting and deleting; its down script brings back the plain
/// table, the same rows and the same catalog.
/// </summary>
public sealed class PartitionMigrationTests(ITestOutputHelper output)
{
    private const int PartitionVersion = 14;
    private static readonly IReadOnlyList<Migration> Through = MigrationCatalog.Load().Where(m => m.Version <= PartitionVersion).ToList();
    private static readonly IReadOnlyList<Migration> Before = Through.Where(m => m.Version < PartitionVersion).ToList();

    [Fact]
    public async Task APopulatedDatabaseIsPartitionedWithEveryRowKeptAndDownRestoresThePlainTable()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await new Migrator(database.OwnerConnectionString, Before, NullLogger.Instance).UpAsync(CancellationToken.None);
        var projects = new[]
        {
            await TrackedData.AddProjectAsync(database.OwnerConnectionString, runs: 40, iterations: 5, samples: 100),
            await TrackedData.AddProjectAsync(database.OwnerConnectionString, runs: 7, iterations: 3, samples: 40),
        };
        var counts = await CountAllAsync(database, projects);
        var plainCatalog = await CatalogSnapshot.TakeAsync(database.OwnerConnectionString);

        await new Migrator(database.OwnerConnectionString, Through, NullLogger.Instance).UpAsync(CancellationToken.None);

        Assert.Equal(counts, await CountAllAsync(database, projects));
        await using var connection = await database.OpenOwnerAsync();
        Assert.Equal("p", await connection.ExecuteScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE oid = 'optimization_samples'::regclass"));
        Assert.Equal(16, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM pg_inherits WHERE inhparent = 'optimization_samples'::regclass"));
        var filled = await connection.ExecuteScalarAsync<int>("SELECT count(DISTINCT tableoid) FROM optimization_samples");
        Assert.True(filled >= 8, $"47 runs spread over the 16 partitions, {filled} of them hold rows");
        Assert.Null(await connection.ExecuteScalarAsync<string?>("SELECT to_regclass('optimization_samples_by_run')::text"));

        Assert.Equal(1, await new Migrator(database.OwnerConnectionString, Through, NullLogger.Instance).DownAsync(1, CancellationToken.None));

        Assert.Equal(counts, await CountAllAsync(database, projects));
        Assert.Equal(plainCatalog, await CatalogSnapshot.TakeAsync(database.OwnerConnectionString));
        Assert.Equal("r", await connection.ExecuteScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE oid = 'optimization_samples'::regclass"));

        Assert.Equal(1, await new Migrator(database.OwnerConnectionString, Through, NullLogger.Instance).UpAsync(CancellationToken.None));

        Assert.Equal(counts, await CountAllAsync(database, projects));
        Assert.Equal(16, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM pg_inherits WHERE inhparent = 'optimization_samples'::regclass"));
    }

    [Fact]
    public async Task EachProjectSeesOnlyItsSamplesThroughTheParentAndNoPartitionDirectly()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await new Migrator(database.OwnerConnectionString, Through, NullLogger.Instance).UpAsync(CancellationToken.None);
        var mine = await TrackedData.AddProjectAsync(database.OwnerConnectionString, runs: 20, iterations: 2, samples: 10);
        var theirs = await TrackedData.AddProjectAsync(database.OwnerConnectionString, runs: 20, iterations: 2, samples: 10);
        await using var owner = await database.OpenOwnerAsync();
        var partitions = (await owner.QueryAsync<string>(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'optimization_samples'::regclass ORDER BY 1")).ToList();
        Assert.Equal(16, partitions.Count);
        // Every partition carries the parent's policy, so no partition is a table without row-level security.
        Assert.Equal(16, await owner.ExecuteScalarAsync<int>("""
            SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_policies p ON p.tablename = c.relname AND p.policyname = 'project_isolation'
            JOIN pg_policies parent ON parent.tablename = 'optimization_samples' AND parent.policyname = 'project_isolation'
            WHERE i.inhparent = 'optimization_samples'::regclass AND c.relrowsecurity
              AND p.qual = parent.qual AND p.with_check = parent.with_check
            """));

        await using var service = new NpgsqlConnection(database.ServiceConnectionString);
        await service.OpenAsync();
        await using (var transaction = await TestDatabase.BeginProjectTransactionAsync(service, mine))
        {
            var seen = await service.QuerySingleAsync<(long Rows, long Others, long Partitions)>("""
                SELECT count(*), count(*) FILTER (WHERE project_id <> @mine), count(DISTINCT tableoid) FROM optimization_samples
                """, new { mine }, transaction);
            Assert.Equal((20L * 2 * 10, 0L), (seen.Rows, seen.Others));
            Assert.True(seen.Partitions > 1, "the project's runs are spread over several partitions");
        }

        foreach (var partition in partitions)
        {
            await using var transaction = await TestDatabase.BeginProjectTransactionAsync(service, mine);
            var read = await Assert.ThrowsAsync<PostgresException>(() => service.ExecuteScalarAsync<long>($"SELECT count(*) FROM {partition}", transaction: transaction));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, read.SqlState);
        }

        await using (var transaction = await TestDatabase.BeginProjectTransactionAsync(service, theirs))
        {
            var write = await Assert.ThrowsAsync<PostgresException>(() => service.ExecuteAsync(
                $"DELETE FROM {partitions[0]}", transaction: transaction));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, write.SqlState);
        }

        Assert.Equal(20L * 2 * 10, (await TrackedData.CountAsync(database.ServiceConnectionString, theirs)).Samples);
    }

    [Fact]
    public async Task ASampleWrittenTwiceIsRefusedByTheRunsKey()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await new Migrator(database.OwnerConnectionString, Through, NullLogger.Instance).UpAsync(CancellationToken.None);
        var projectId = await TrackedData.AddProjectAsync(database.OwnerConnectionString, runs: 3, iterations: 1, samples: 5);
        var before = await TrackedData.CountAsync(database.ServiceConnectionString, projectId);

        await using var service = new NpgsqlConnection(database.ServiceConnectionString);
        await service.OpenAsync();
        await using var transaction = await TestDatabase.BeginProjectTransactionAsync(service, projectId);
        var error = await Assert.ThrowsAsync<PostgresException>(() => service.ExecuteAsync("""
            INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, score)
            SELECT run_id, project_id, iteration, sample_index, 0.5 FROM optimization_samples ORDER BY run_id LIMIT 1
            """, transaction: transaction));
        await transaction.RollbackAsync();

        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
        Assert.Equal("optimization_samples_pk", await PartitionNames.RootConstraintAsync(service, error.TableName, error.ConstraintName));
        Assert.Equal(before, await TrackedData.CountAsync(database.ServiceConnectionString, projectId));
    }

    [Fact]
    public async Task WritesDuringTheMigrationAreAllKeptAndWaitOnlyBriefly()
    {
        await using var database = await ScratchDatabase.CreateAsync();
        await new Migrator(database.OwnerConnectionString, Before, NullLogger.Instance).UpAsync(CancellationToken.None);
        var projectId = await TrackedData.AddProjectAsync(database.OwnerConnectionString, runs: 60, iterations: 5, samples: 200);
        var writer = new ConcurrentWriter(database.OwnerConnectionString, projectId);
        using var stop = new CancellationTokenSource();
        var writing = Task.Run(() => writer.RunAsync(stop.Token));
        await writer.Started.Task;

        var migrating = Stopwatch.StartNew();
        // A bound on the migration, so a lock wait that never ends fails here and names itself.
        await new Migrator(database.OwnerConnectionString, Through, NullLogger.Instance).UpAsync(CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(3));
        migrating.Stop();
        await writer.WriteAtLeastOnceMoreAsync(writing).WaitAsync(TimeSpan.FromMinutes(1));
        await stop.CancelAsync();
        await writing;

        output.WriteLine($"migration {migrating.ElapsedMilliseconds} ms; writer: {writer.Writes} writes, longest {writer.LongestWrite.TotalMilliseconds:F0} ms, "
            + $"{writer.Retried} retried after a deadlock");
        var counts = await TrackedData.CountAsync(database.ServiceConnectionString, projectId);
        Assert.Equal(60 * 5 * 200 + writer.SamplesAdded - writer.SamplesDeleted, counts.Samples);
        Assert.True(writer.SamplesDeleted > 0 && writer.SamplesAdded > 0, "the writer inserted and deleted during the migration");
        await using var connection = await database.OpenOwnerAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM optimization_samples s WHERE NOT EXISTS (SELECT 1 FROM optimization_runs r WHERE r.id = s.run_id)
            """));
    }

    private static async Task<IReadOnlyList<TrackedData.Counts>> CountAllAsync(ScratchDatabase database, IEnumerable<Guid> projects)
    {
        var counts = new List<TrackedData.Counts>();
        foreach (var projectId in projects)
        {
            counts.Add(await TrackedData.CountAsync(database.ServiceConnectionString, projectId));
        }

        return counts;
    }

    /// <summary>
    /// Adds a run with samples, and deletes an earlier one every third time, until stopped; times each write. A write
    /// that PostgreSQL aborts as a deadlock (the migration's copy locks the runs of a batch) is retried, as the silo
    /// answers one with 503 + Retry-After and its client retries; the aborted statement changed nothing.
    /// </summary>
    private sealed class ConcurrentWriter(string ownerConnectionString, Guid projectId)
    {
        private const int SamplesPerRun = 50;
        private readonly Queue<Guid> _added = new();
        private int _writesAfterMark = -1;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Writes { get; private set; }

        public long SamplesAdded { get; private set; }

        public long SamplesDeleted { get; private set; }

        public TimeSpan LongestWrite { get; private set; }

        public int Retried { get; private set; }

        /// <summary>Waits for two more writes; a writer that stopped fails the test with its error instead of a wait for ever.</summary>
        public async Task WriteAtLeastOnceMoreAsync(Task writing)
        {
            Volatile.Write(ref _writesAfterMark, 0);
            while (Volatile.Read(ref _writesAfterMark) < 2)
            {
                if (writing.IsCompleted)
                {
                    await writing;
                    throw new InvalidOperationException("The writer stopped before it was asked to.");
                }

                await Task.Delay(20);
            }
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            await using var connection = new NpgsqlConnection(ownerConnectionString);
            await connection.OpenAsync(CancellationToken.None);
            while (!cancellationToken.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    await WriteOnceAsync(connection);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected)
                {
                    Retried++;
                    continue;
                }

                LongestWrite = watch.Elapsed > LongestWrite ? watch.Elapsed : LongestWrite;
                Writes++;
                Started.TrySetResult();
                if (Volatile.Read(ref _writesAfterMark) >= 0)
                {
                    Interlocked.Increment(ref _writesAfterMark);
                }
            }
        }

        private async Task WriteOnceAsync(NpgsqlConnection connection)
        {
            if (Writes % 3 == 2 && _added.TryPeek(out var old))
            {
                await connection.ExecuteAsync("DELETE FROM optimization_runs WHERE id = @old", new { old });
                _added.Dequeue();
                SamplesDeleted += SamplesPerRun;
            }
            else
            {
                var runId = Guid.NewGuid();
                await connection.ExecuteAsync("""
                    WITH run AS (INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type) VALUES (@runId, @projectId, 'live', 'miprov2') RETURNING id, project_id),
                         it AS (INSERT INTO optimization_iterations (run_id, project_id, iteration) SELECT id, project_id, 1 FROM run RETURNING run_id, project_id)
                    INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, score)
                    SELECT it.run_id, it.project_id, 1, s, 0.5 FROM it, generate_series(0, @last) s
                    """, new { runId, projectId, last = SamplesPerRun - 1 });
                _added.Enqueue(runId);
                SamplesAdded += SamplesPerRun;
            }
        }
    }
}
