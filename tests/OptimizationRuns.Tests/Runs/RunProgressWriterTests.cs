using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Faults;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>
/// The silo's progress writer against a real database: many runs of several projects in one transaction, never over
/// what a run's own commit wrote since, never into another project's run, and kept through an outage.
/// </summary>
public sealed class RunProgressWriterTests : IAsyncLifetime
{
    private readonly LogLines _logs = new();
    private NpgsqlDataSource _dataSource = null!;
    private RunProgressWriter _writer = null!;

    public Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(TestDatabase.ServiceConnectionString);
        _writer = Writer(_dataSource, _logs);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task TheProgressOfManyRunsOfSeveralProjectsIsWrittenInOneTransaction()
    {
        var beat = Now();
        var runs = new List<(Guid ProjectId, Guid RunId)>();
        for (var p = 0; p < 3; p++)
        {
            var projectId = await TestDatabase.CreateProjectAsync();
            for (var r = 0; r < 40; r++)
            {
                runs.Add((projectId, await CreateRunningRunAsync(projectId)));
            }
        }

        foreach (var (projectId, runId) in runs)
        {
            // An older offer of the same run is replaced by the newer one.
            _writer.Offer(new RunProgressRow(projectId, runId, "bootstrapping", "old", 1, null, beat.AddSeconds(-1)));
            _writer.Offer(new RunProgressRow(projectId, runId, "searching", $"run {runId:N}", 7, 20, beat));
        }

        await _writer.WriteDueAsync(CancellationToken.None);

        await using var owner = await TestDatabase.OpenOwnerAsync();
        var ids = runs.Select(r => r.RunId).ToArray();
        var stored = (await owner.QueryAsync<(Guid Id, string Phase, string Message, int CurrentIteration, int TotalIterations, DateTime Heartbeat, string Xmin)>(
            "SELECT id, phase, message, current_iteration, total_iterations, last_heartbeat_at, xmin::text FROM optimization_runs WHERE id = ANY(@ids)",
            new { ids })).ToList();
        Assert.Equal(runs.Count, stored.Count);
        Assert.All(stored, row => Assert.Equal(("searching", $"run {row.Id:N}", 7, 20, beat.UtcDateTime),
            (row.Phase, row.Message, row.CurrentIteration, row.TotalIterations, row.Heartbeat.ToUniversalTime())));
        // Every row was changed by the same transaction.
        Assert.Single(stored.Select(row => row.Xmin).Distinct());
        // Nothing is left to write.
        await _writer.WriteDueAsync(CancellationToken.None);
        Assert.Single((await owner.QueryAsync<string>("SELECT DISTINCT xmin::text FROM optimization_runs WHERE id = ANY(@ids)", new { ids })));
    }

    [Fact]
    public async Task AnOfferOlderThanTheRowsHeartbeatOrForARunNoLongerRunningChangesNothing()
    {
        var projectId = await TestDatabase.CreateProjectAsync();
        var committedSince = await CreateRunningRunAsync(projectId);
        var completed = await CreateRunningRunAsync(projectId);
        var beat = Now();
        await using var owner = await TestDatabase.OpenOwnerAsync();
        // The run's own commit wrote a newer heartbeat (and its progress) after the offer was made.
        await owner.ExecuteAsync("UPDATE optimization_runs SET phase = 'evaluating', message = 'newer', last_heartbeat_at = @at WHERE id = @id",
            new { id = committedSince, at = beat.AddSeconds(1).UtcDateTime });
        await owner.ExecuteAsync("UPDATE optimization_runs SET status = 'completed', phase = 'completed' WHERE id = @id", new { id = completed });

        _writer.Offer(new RunProgressRow(projectId, committedSince, "searching", "older", 3, null, beat));
        _writer.Offer(new RunProgressRow(projectId, completed, "searching", "late", 3, null, beat));
        await _writer.WriteDueAsync(CancellationToken.None);

        Assert.Equal(("evaluating", "newer"), await ReadPhaseAsync(owner, committedSince));
        Assert.Equal(("completed", (string?)null), await ReadPhaseAsync(owner, completed));
    }

    [Fact]
    public async Task AnOfferNamingAnotherProjectDoesNotReachItsRun()
    {
        var mine = await TestDatabase.CreateProjectAsync();
        var theirs = await TestDatabase.CreateProjectAsync();
        var theirRun = await CreateRunningRunAsync(theirs);
        var myRun = await CreateRunningRunAsync(mine);

        _writer.Offer(new RunProgressRow(mine, theirRun, "searching", "from another project", 3, null, Now()));
        _writer.Offer(new RunProgressRow(mine, myRun, "searching", "mine", 3, null, Now()));
        await _writer.WriteDueAsync(CancellationToken.None);

        await using var owner = await TestDatabase.OpenOwnerAsync();
        Assert.Equal(((string?)null, (string?)null), await ReadPhaseAsync(owner, theirRun));
        Assert.Equal(("searching", "mine"), await ReadPhaseAsync(owner, myRun));
    }

    [Fact]
    public async Task ProgressOfferedWhileTheDatabaseIsStoppedIsWrittenOnceItIsBack()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var dataSource = NpgsqlDataSource.Create(server.ServiceConnectionString);
        var logs = new LogLines();
        var writer = Writer(dataSource, logs);
        var projectId = Guid.NewGuid();
        var runId = Guid.NewGuid();
        await using (var owner = await server.OpenOwnerAsync())
        {
            await owner.ExecuteAsync("INSERT INTO project_config (id, name) VALUES (@projectId, 'outage')", new { projectId });
            await owner.ExecuteAsync("""
                INSERT INTO optimization_runs (id, project_id, run_name, optimizer_type, status) VALUES (@runId, @projectId, 'r', 'miprov2', 'running')
                """, new { runId, projectId });
        }

        await server.StopAsync();
        writer.Offer(new RunProgressRow(projectId, runId, "searching", "during the outage", 5, null, Now()));
        await writer.WriteDueAsync(CancellationToken.None);
        await writer.WriteDueAsync(CancellationToken.None);
        // Said once, not once a period.
        Assert.Single(logs.Warnings, line => line.Contains("could not be written"));

        await server.StartAsync();
        await writer.WriteDueAsync(CancellationToken.None);
        await using var reopened = await server.OpenOwnerAsync();
        Assert.Equal(("searching", "during the outage"), await ReadPhaseAsync(reopened, runId));
        Assert.Contains(logs.All, line => line.Contains("written again"));
    }

    private static RunProgressWriter Writer(NpgsqlDataSource dataSource, LogLines logs) =>
        new(new ProgressStore(dataSource), Options.Create(new RunOptions()), new LoggerFactory([logs]).CreateLogger<RunProgressWriter>());

    private static DateTimeOffset Now()
    {
        var now = DateTimeOffset.UtcNow;
        return now.AddTicks(-(now.Ticks % 10));
    }

    private static async Task<Guid> CreateRunningRunAsync(Guid projectId)
    {
        var runId = await TestDatabase.CreateRunAsync(projectId);
        await using var owner = await TestDatabase.OpenOwnerAsync();
        await owner.ExecuteAsync("UPDATE optimization_runs SET status = 'running' WHERE id = @runId", new { runId });
        return runId;
    }

    private static async Task<(string? Phase, string? Message)> ReadPhaseAsync(NpgsqlConnection owner, Guid runId) =>
        await owner.QuerySingleAsync<(string?, string?)>("SELECT phase, message FROM optimization_runs WHERE id = @runId", new { runId });
}
