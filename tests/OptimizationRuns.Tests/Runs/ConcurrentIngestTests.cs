using Dapper;
using OptimizationRuns.Grains.Runs;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Runs;

/// <summary>Many optimizer threads writing into runs at once: nothing lost, nothing doubled, aggregates exact.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ConcurrentIngestTests(ClusterFixture fixture)
{
    private const int Callers = 64;
    private const int BatchesPerCaller = 100;
    private const int SamplesPerBatch = 5;
    private const int Iterations = 20;

    // Iteration i: 0 is the baseline, every fifth a full evaluation, the rest minibatches. The highest
    // score of all belongs to a minibatch, which must never become the run's best.
    private static IterationRecord Trial(int i) => new(i,
        i == 0 ? IterationKind.Baseline : i % 5 == 0 ? IterationKind.Full : IterationKind.Minibatch,
        Score: i == 0 ? 0.40m : i % 5 == 0 ? 0.40m + i / 100m : i == 7 ? 0.99m : 0.30m + i / 100m,
        ParamsJson: "{\"predictors\":{\"0\":{\"instruction\":" + i % 4 + ",\"demos\":" + i % 3 + "}}}");

    private const decimal ExpectedBest = 0.55m; // iteration 15, full
    private const int ExpectedBestIteration = 15;

    private static SampleRecord CallerSample(int caller, int batch, int k) =>
        RunScenario.Sample(batch / (BatchesPerCaller / Iterations), caller * 100 + batch % 5 * SamplesPerBatch + k,
            success: (caller + batch + k) % 10 != 0, latencyMs: 50 + k * 10);

    private static async Task<int> IngestAsync(IRunGrain grain, int callers, bool retryEveryBatch)
    {
        var inserted = 0;
        var trials = Task.WhenAll(Enumerable.Range(0, Iterations).Reverse().Select(async i =>
        {
            // Start and end of each trial, out of order across trials.
            await grain.RecordIterationAsync(Trial(i) with { Score = null });
            await grain.RecordIterationAsync(Trial(i));
        }));
        var workers = Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            for (var batch = 0; batch < BatchesPerCaller; batch++)
            {
                var samples = Enumerable.Range(0, SamplesPerBatch).Select(k => CallerSample(caller, batch, k)).ToList();
                var result = await grain.RecordSamplesAsync(samples);
                Assert.Equal(SamplesPerBatch, result.Accepted);
                Interlocked.Add(ref inserted, result.Inserted);
                if (retryEveryBatch)
                {
                    var retry = await grain.RecordSamplesAsync(samples);
                    Assert.Equal(new SampleBatchResult(SamplesPerBatch, 0, SamplesPerBatch), retry);
                }
            }
        }));
        await Task.WhenAll(workers.Append(trials));
        return inserted;
    }

    private static async Task AssertRunIsExactAsync(Guid runId, int expectedSamples)
    {
        var stored = await RunScenario.ReadStoredAsync(runId);
        Assert.Equal(expectedSamples, stored.SampleRows);
        Assert.Equal(stored.SampleRows, stored.SamplesEvaluated);
        Assert.Equal(stored.SuccessfulRows, stored.SamplesSuccessful);
        Assert.Equal(stored.SampleRows - stored.SuccessfulRows, stored.SamplesFailed);
        Assert.Equal(stored.PromptTokenSum, stored.PromptTokens);
        Assert.Equal(stored.CostSum, stored.CostUsd);
        Assert.Equal(Iterations, stored.IterationRows);
        Assert.Equal(Iterations, stored.CompletedIterations);
        Assert.Equal(ExpectedBest, stored.BestScore);
        Assert.Equal(ExpectedBestIteration, stored.BestIteration);

        await using var connection = await TestDatabase.OpenOwnerAsync();
        var mismatched = await connection.ExecuteScalarAsync<int>("""
            SELECT count(*) FROM optimization_iterations i
            WHERE i.run_id = @runId
              AND (i.samples_evaluated <> (SELECT count(*) FROM optimization_samples s WHERE s.run_id = i.run_id AND s.iteration = i.iteration)
                   OR i.is_best <> (i.iteration = @best))
            """, new { runId, best = ExpectedBestIteration });
        Assert.Equal(0, mismatched);
    }

    [Fact]
    public async Task SixtyFourCallersOnOneRunLoseAndDoubleNothing()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);

        var inserted = await IngestAsync(grain, Callers, retryEveryBatch: false);

        Assert.Equal(Callers * BatchesPerCaller * SamplesPerBatch, inserted);
        await AssertRunIsExactAsync(runId, inserted);
        var snapshot = await grain.GetAsync();
        Assert.Equal(inserted, snapshot!.SamplesEvaluated);
        Assert.Equal(ExpectedBest, snapshot.BestScore);
        Assert.Equal(0.99m, snapshot.BestMinibatchScore);
    }

    [Fact]
    public async Task SixtyFourCallersOverSixteenRunsLoseAndDoubleNothing()
    {
        var runs = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => RunScenario.StartRunAsync(fixture.Client)));

        var inserted = await Task.WhenAll(runs.Select(r => IngestAsync(r.Grain, Callers / 16, retryEveryBatch: false)));

        for (var i = 0; i < runs.Length; i++)
        {
            Assert.Equal(Callers / 16 * BatchesPerCaller * SamplesPerBatch, inserted[i]);
            await AssertRunIsExactAsync(runs[i].RunId, inserted[i]);
        }
    }

    [Fact]
    public async Task RetriedSampleBatchesAreCountedAsDuplicatesAndStoredOnce()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);

        var inserted = await IngestAsync(grain, 16, retryEveryBatch: true);

        Assert.Equal(16 * BatchesPerCaller * SamplesPerBatch, inserted);
        await AssertRunIsExactAsync(runId, inserted);
    }

    [Fact]
    public async Task ConcurrentRetriesOfOneBatchInsertItOnce()
    {
        var (_, runId, grain) = await RunScenario.StartRunAsync(fixture.Client);
        var samples = Enumerable.Range(0, 50).Select(k => RunScenario.Sample(1, k)).ToList();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => grain.RecordSamplesAsync(samples)));

        Assert.Equal(50, results.Sum(r => r.Inserted));
        Assert.Equal(7 * 50, results.Sum(r => r.Duplicates));
        Assert.Equal(50, (await RunScenario.ReadStoredAsync(runId)).SampleRows);
    }
}
