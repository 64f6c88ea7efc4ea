using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>Invalid transitions and invalid values are refused with a typed error, and write nothing.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RunRulesTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AnEndedRunRefusesSamplesAndIterationsAndKeepsItsRows()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.RecordSamplesAsync([RunScenario.Sample(0, 0)]);
        await grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.6m));

        await Assert.ThrowsAsync<RunConflictException>(() => grain.RecordSamplesAsync([RunScenario.Sample(0, 1)]));
        await Assert.ThrowsAsync<RunConflictException>(() => grain.RecordIterationAsync(new IterationRecord(1, IterationKind.Full, 0.7m)));
        await Assert.ThrowsAsync<RunConflictException>(() => grain.ReportProgressAsync(new RunProgress("searching")));

        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal(1, stored.SampleRows);
        Assert.Equal(1, stored.IterationRows);
        Assert.Equal("completed", stored.Status);
    }

    [Fact]
    public async Task EndingTwiceTheSameWayIsANoOpAndAnotherWayIsAConflict()
    {
        var (_, _, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var first = await grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.6m, OptimizedProgramJson: "{}"));

        var again = await grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.6m));

        Assert.Equal(first.EndTime, again.EndTime);
        Assert.Equal(0.6m, again.FinalScore);
        await Assert.ThrowsAsync<RunConflictException>(() => grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.7m)));
        await Assert.ThrowsAsync<RunConflictException>(() => grain.TransitionAsync(new RunTransition(RunStatus.Failed, ErrorMessage: "boom")));
        await Assert.ThrowsAsync<RunConflictException>(() => grain.TransitionAsync(new RunTransition(RunStatus.Running)));
        Assert.Equal(RunStatus.Completed, (await grain.GetAsync())!.Status);
    }

    [Theory]
    [InlineData(1.5, 0, "samples[0].score")]
    [InlineData(-0.1, 0, "samples[0].score")]
    [InlineData(0.5, -1, "samples[0].sampleIndex")]
    public async Task InvalidSampleValuesRejectTheWholeBatch(double score, int index, string field)
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var bad = RunScenario.Sample(0, index) with { Score = (decimal)score };

        var error = await Assert.ThrowsAsync<RunValidationException>(() => grain.RecordSamplesAsync([bad, RunScenario.Sample(0, 5)]));

        Assert.Contains(field, error.Errors.Keys);
        Assert.Equal(0, (await RunScenario.ReadStoredAsync(runId)).SampleRows);
    }

    [Fact]
    public async Task SampleFieldsOutsideTheirRulesAreNamed()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var bad = RunScenario.Sample(0, 0) with
        {
            PromptTokens = -1, LatencyMs = double.NaN, TraceId = "not-a-trace", InputsJson = "{not json", CostUsd = -1m,
        };

        var error = await Assert.ThrowsAsync<RunValidationException>(() => grain.RecordSamplesAsync([bad]));

        Assert.Equal(
            new[] { "samples[0].costUsd", "samples[0].inputs", "samples[0].latencyMs", "samples[0].promptTokens", "samples[0].traceId" },
            error.Errors.Keys.Order());
        Assert.Equal(0, (await RunScenario.ReadStoredAsync(runId)).SampleRows);
    }

    [Fact]
    public async Task ABatchOverTheLimitIsRefused()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var samples = Enumerable.Range(0, OptimizationRuns.Grains.Limits.MaxSamplesPerBatch + 1).Select(i => RunScenario.Sample(0, i)).ToList();

        var error = await Assert.ThrowsAsync<RunValidationException>(() => grain.RecordSamplesAsync(samples));

        Assert.Contains("samples", error.Errors.Keys);
        Assert.Equal(0, (await RunScenario.ReadStoredAsync(runId)).SampleRows);
    }

    [Fact]
    public async Task InvalidIterationValuesAreRefused()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var started = DateTimeOffset.UtcNow;

        var error = await Assert.ThrowsAsync<RunValidationException>(() => grain.RecordIterationAsync(new IterationRecord(
            -1, IterationKind.Full, Score: 2m, SamplesEvaluated: 1, SamplesSuccessful: 2, StartedAt: started, CompletedAt: started.AddSeconds(-1))));

        Assert.Equal(new[] { "completedAt", "iteration", "samplesEvaluated", "score" }, error.Errors.Keys.Order());
        Assert.Equal(0, (await RunScenario.ReadStoredAsync(runId)).IterationRows);
    }

    [Fact]
    public async Task ACompletedIterationCannotChangeItsScore()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.RecordIterationAsync(new IterationRecord(3, IterationKind.Full, 0.6m));

        Assert.Equal(IterationOutcome.Duplicate, await grain.RecordIterationAsync(new IterationRecord(3, IterationKind.Full, 0.6m)));
        await Assert.ThrowsAsync<RunConflictException>(() => grain.RecordIterationAsync(new IterationRecord(3, IterationKind.Full, 0.7m)));

        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal(0.6m, stored.BestScore);
        Assert.Equal(1, stored.IterationRows);
    }

    [Fact]
    public async Task ACompletedIterationTakesItsChosenCandidatesLaterWithoutChangingItsScore()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        await grain.RecordIterationAsync(new IterationRecord(4, IterationKind.Minibatch, 0.6m));

        var outcome = await grain.RecordIterationAsync(new IterationRecord(4, IterationKind.Minibatch, 0.6m,
            ParamsJson: """{"predictors":{"0":{"instruction":2,"demos":1}}}"""));

        Assert.Equal(IterationOutcome.Updated, outcome);
        await using var connection = await TestDatabase.OpenOwnerAsync();
        var stored = await Dapper.SqlMapper.QuerySingleAsync<string>(connection,
            "SELECT params->'predictors'->'0'->>'instruction' FROM optimization_iterations WHERE run_id = @runId AND iteration = 4", new { runId });
        Assert.Equal("2", stored);
        Assert.Equal(1, (await RunScenario.ReadStoredAsync(runId)).CompletedIterations);
    }

    [Fact]
    public async Task APendingRunCanBeCancelledButNotSetBackToPending()
    {
        var projectId = await TestDatabase.CreateProjectAsync();
        var grain = RunScenario.Grain(fixture.Client, projectId, Guid.NewGuid());
        await grain.CreateAsync(new CreateRun("pending", OptimizerType.Copro, "{}"));

        await Assert.ThrowsAsync<RunValidationException>(() => grain.TransitionAsync(new RunTransition(RunStatus.Pending)));
        var cancelled = await grain.TransitionAsync(new RunTransition(RunStatus.Cancelled));

        Assert.Equal(RunStatus.Cancelled, cancelled.Status);
        Assert.NotNull(cancelled.EndTime);
    }

    [Fact]
    public async Task InvalidRunsAreNotCreated()
    {
        var projectId = await TestDatabase.CreateProjectAsync();
        var grain = RunScenario.Grain(fixture.Client, projectId, Guid.NewGuid());

        var error = await Assert.ThrowsAsync<RunValidationException>(() => grain.CreateAsync(
            new CreateRun("", OptimizerType.Miprov2, "[1,2]", BaselineScore: 1.2m, Tags: ["ok", new string('x', 101)])));

        Assert.Equal(new[] { "baselineScore", "config", "runName", "tags[1]" }, error.Errors.Keys.Order());
        Assert.Null(await grain.GetAsync());
    }

    [Fact]
    public async Task CreatingTwiceWithTheSameIdAnswersTheSameRun()
    {
        var projectId = await TestDatabase.CreateProjectAsync();
        var runId = Guid.NewGuid();
        var command = new CreateRun("idempotent", OptimizerType.Gepa, "{}");

        var first = await RunScenario.Grain(fixture.Client, projectId, runId).CreateAsync(command);
        var second = await RunScenario.Grain(fixture.Client, projectId, runId).CreateAsync(command);

        Assert.Equal(first.CreatedAt, second.CreatedAt);
        Assert.Equal(runId, second.Id);
    }

    [Fact]
    public async Task AnotherProjectsRunIsNotFound()
    {
        var (_, runId, _) = await RunScenario.StartRunAsync(fixture.Client);
        var otherProject = await TestDatabase.CreateProjectAsync();
        var stranger = RunScenario.Grain(fixture.Client, otherProject, runId);

        Assert.Null(await stranger.GetAsync());
        await Assert.ThrowsAsync<RunNotFoundException>(() => stranger.RecordSamplesAsync([RunScenario.Sample(0, 0)]));
        await Assert.ThrowsAsync<RunNotFoundException>(() => stranger.TransitionAsync(new RunTransition(RunStatus.Cancelled)));
        // The gateway scopes client-chosen ids to the project (RunIds); a raw id of another project's run is not there.
        await Assert.ThrowsAsync<RunNotFoundException>(() => stranger.CreateAsync(new CreateRun("hijack", OptimizerType.Custom, "{}")));

        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal("running", stored.Status);
        Assert.Equal(0, stored.SampleRows);
    }
}
