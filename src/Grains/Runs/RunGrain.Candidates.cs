using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OptimizationRuns.Grains.Candidates;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Grains.Runs;

// The run's candidates: written once, each batch in a transaction of its own (not the group commit: they touch no
// counter of the run row), and taken after the run has ended too, since an optimizer knows its final texts only then.
public sealed partial class RunGrain
{
    // Resolved on first use: the grain's constructor belongs to RunGrain.cs and need not change for this store.
    private CandidateStore? _candidateStore;

    /// <inheritdoc />
    public async Task<CandidateBatchResult> RecordCandidatesAsync(IReadOnlyList<CandidateRecord> candidates, CancellationToken cancellationToken = default)
    {
        var distinct = CandidateRules.Validate(candidates);
        if (_deleting)
        {
            throw new RunConflictException("The run is being deleted: it takes no more candidates.");
        }

        // GetAsync reloads a run this activation has not seen yet, and answers null for another project's.
        if (await GetAsync(cancellationToken) is null)
        {
            throw new RunNotFoundException(_runId);
        }

        using var activity = StartActivity("run.record_candidates");
        activity?.SetTag(RunTelemetry.BatchSizeTag, candidates.Count);
        _candidateStore ??= ServiceProvider.GetRequiredService<CandidateStore>();
        int inserted;
        IReadOnlyList<CandidateKey> conflicts;
        try
        {
            (inserted, conflicts) = await _candidateStore.RecordAsync(_projectId, _runId, distinct, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            // The run was deleted while the batch was on its way.
            throw new RunNotFoundException(_runId);
        }

        if (conflicts.Count > 0)
        {
            throw new RunConflictException(DescribeConflicts(candidates, conflicts));
        }

        activity?.SetTag(RunTelemetry.InsertedTag, inserted).SetTag(RunTelemetry.DuplicatesTag, candidates.Count - inserted);
        if (inserted > 0)
        {
            logger.LogInformation("Run {RunId}: {Inserted} candidates recorded", _runId, inserted);
        }

        return new CandidateBatchResult(candidates.Count, inserted, candidates.Count - inserted);
    }

    // Names each conflicting candidate by its place in the request and its identity, so the caller can find it.
    private static string DescribeConflicts(IReadOnlyList<CandidateRecord> candidates, IReadOnlyList<CandidateKey> conflicts)
    {
        var named = conflicts.Select(key =>
        {
            var position = Enumerable.Range(0, candidates.Count).First(i =>
                candidates[i].Predictor == key.Predictor && candidates[i].Kind.ToName() == key.Kind && candidates[i].Index == key.Idx);
            return $"candidates[{position}] (predictor \"{key.Predictor}\", {key.Kind} {key.Idx})";
        });
        return $"Already recorded with a different content: {string.Join(", ", named)}. A recorded candidate cannot change; "
            + "nothing of this batch was written.";
    }
}
