using Dapper;
using Npgsql;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// optimization_candidates as the service role sees it: its own project's rows only, written once and never updated,
/// gone with their run; and the constraints keep an instruction a text and a demo set an array.
/// </summary>
public sealed class CandidateTableTests
{
    private const string InsertSql = """
        INSERT INTO optimization_candidates (run_id, project_id, predictor, kind, idx, text, demos)
        VALUES (@run, @project, '0', @kind, @idx, @text, @demos::jsonb)
        """;

    private static object Instruction(Guid run, Guid project, int idx = 0) =>
        new { run, project, kind = "instruction", idx, text = "Answer.", demos = (string?)null };

    private static Task<int> InsertAsync(Guid project, object row) =>
        Service.InProjectAsync(project, (connection, transaction) => connection.ExecuteAsync(InsertSql, row, transaction));

    [Fact]
    public async Task AnotherProjectsCandidatesAreInvisibleAndCannotBeWritten()
    {
        var a = await TestDatabase.CreateProjectAsync();
        var b = await TestDatabase.CreateProjectAsync();
        var runA = await TestDatabase.CreateRunAsync(a);
        var runB = await TestDatabase.CreateRunAsync(b);
        await InsertAsync(a, Instruction(runA, a));
        await InsertAsync(b, Instruction(runB, b));

        var visible = await Service.InProjectAsync(a, (connection, transaction) =>
            connection.QueryAsync<Guid>("SELECT run_id FROM optimization_candidates WHERE run_id IN (@runA, @runB)", new { runA, runB }, transaction));
        var insert = await Assert.ThrowsAsync<PostgresException>(() => InsertAsync(a, Instruction(runB, b, idx: 1)));
        var deleted = await Service.InProjectAsync(a, (connection, transaction) =>
            connection.ExecuteAsync("DELETE FROM optimization_candidates WHERE run_id = @runB", new { runB }, transaction));
        var unset = await Service.InProjectAsync(null, (connection, transaction) =>
            connection.ExecuteScalarAsync<long>("SELECT count(*) FROM optimization_candidates", transaction: transaction));

        Assert.Equal([runA], visible);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, insert.SqlState);
        Assert.Equal(0, deleted);
        Assert.Equal(0, unset);
        Assert.Equal(1, await Owner.QuerySingleAsync<long>("SELECT count(*) FROM optimization_candidates WHERE run_id = @runB", new { runB }));
    }

    [Fact]
    public async Task TheServiceCannotChangeARecordedCandidate()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        await InsertAsync(project, Instruction(run, project));

        var update = await Assert.ThrowsAsync<PostgresException>(() => Service.InProjectAsync(project, (connection, transaction) =>
            connection.ExecuteAsync("UPDATE optimization_candidates SET text = 'Changed.' WHERE run_id = @run", new { run }, transaction)));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, update.SqlState);
        Assert.Equal("Answer.", await Owner.QuerySingleAsync<string>("SELECT text FROM optimization_candidates WHERE run_id = @run", new { run }));
    }

    [Fact]
    public async Task CandidatesGoWithTheirRun()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        var sibling = await TestDatabase.CreateRunAsync(project);
        await InsertAsync(project, Instruction(run, project));
        await InsertAsync(project, Instruction(sibling, project));

        await Service.InProjectAsync(project, (connection, transaction) =>
            connection.ExecuteAsync("DELETE FROM optimization_runs WHERE id = @run", new { run }, transaction));

        Assert.Equal(0, await Owner.QuerySingleAsync<long>("SELECT count(*) FROM optimization_candidates WHERE run_id = @run", new { run }));
        Assert.Equal(1, await Owner.QuerySingleAsync<long>("SELECT count(*) FROM optimization_candidates WHERE run_id = @sibling", new { sibling }));
    }

    [Theory]
    [InlineData("instruction", null, null, "optimization_candidates_content")]
    [InlineData("instruction", "Answer.", "[]", "optimization_candidates_content")]
    [InlineData("demos", null, null, "optimization_candidates_content")]
    [InlineData("demos", null, """{"q": "a"}""", "optimization_candidates_demos_check")]
    [InlineData("demos", null, "\"[]\"", "optimization_candidates_demos_check")]
    [InlineData("prompt", null, "[]", "optimization_candidates_kind_check")]
    [InlineData("instruction", "", null, "optimization_candidates_text_check")]
    public async Task AnInstructionIsATextAndADemoSetAnArray(string kind, string? text, string? demos, string constraint)
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);

        var error = await Assert.ThrowsAsync<PostgresException>(() => InsertAsync(project, new { run, project, kind, idx = 0, text, demos }));

        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal(constraint, error.ConstraintName);
    }

    [Fact]
    public async Task ADemoSetHoldsAtMostAHundredDemos()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        string Demos(int count) => "[" + string.Join(",", Enumerable.Repeat("{}", count)) + "]";

        await InsertAsync(project, new { run, project, kind = "demos", idx = 0, text = (string?)null, demos = Demos(100) });
        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            InsertAsync(project, new { run, project, kind = "demos", idx = 1, text = (string?)null, demos = Demos(101) }));

        Assert.Equal("optimization_candidates_demos_check", error.ConstraintName);
    }
}
