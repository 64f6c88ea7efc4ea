using System.Runtime.CompilerServices;
using OptimizationRuns.Grains.Candidates;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;
using Orleans.Concurrency;

namespace OptimizationRuns.Grains.Analysis;

/// <summary>
/// Streams a run's samples or iterations for export, a page per call, keyed by the run with its project as key
/// extension. While the caller writes one page, the next is already being read, and no more: memory stays at about
/// two pages (<see cref="ExportPageSize"/>) however large the run.
/// </summary>
/// <remarks>
/// Reentrant: several exports of one run (and their read-ahead) proceed at once. Not a stateless worker: each page
/// is asked for by a call of its own, which must reach the activation that holds the stream. Collected soon after its
/// last export, as it holds nothing worth keeping.
/// </remarks>
[Reentrant, CollectionAgeLimit(Minutes = 2)]
public sealed class RunExportGrain(RunAnalysisQueries queries) : Grain, IRunExportGrain
{
    private Guid RunId => this.GetPrimaryKey(out _);

    // A key without a project id reads under no project: row-level security shows it nothing, so the run is not found.
    private Guid ProjectId => Guid.TryParse(KeyExtension, out var projectId) ? projectId : Guid.Empty;

    private string? KeyExtension
    {
        get
        {
            this.GetPrimaryKey(out var extension);
            return extension;
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<IReadOnlyList<SampleExportRow>> ExportSamplesAsync(CancellationToken cancellationToken = default) =>
        PagesAsync<SampleExportRow, SamplePosition>(
            (after, take, ct) => queries.SamplePageAsync(ProjectId, RunId, after, take, ct),
            last => new SamplePosition(last.RunId, last.Iteration, last.SampleIndex),
            s => s.TextBytes, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<IReadOnlyList<IterationView>> ExportIterationsAsync(CancellationToken cancellationToken = default) =>
        PagesAsync<IterationView, int?>(
            (after, take, ct) => queries.IterationPageAsync(ProjectId, RunId, after ?? -1, take, ct),
            last => last.Iteration,
            IterationTextBytes, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<IReadOnlyList<CandidateExportRow>> ExportCandidatesAsync(CancellationToken cancellationToken = default) =>
        PagesAsync<CandidateExportRow, CandidateKey>(
            async (after, take, ct) => (await queries.CandidatePageAsync(ProjectId, RunId, after, take, ct))?.Select(ToExportRow).ToList(),
            last => new CandidateKey(last.Predictor, last.Kind.ToName(), last.Candidate.Index),
            c => 2L * ((c.Candidate.Text?.Length ?? 0) + (c.Candidate.DemosJson?.Length ?? 0)), cancellationToken);

    private static CandidateExportRow ToExportRow(CandidateRow row) =>
        new(row.Predictor, DomainNames.ParseName<CandidateKind>(row.Kind), CandidateTable.View(row));

    /// <summary>
    /// Pages along a keyset: reads the first page (which tells whether the run is visible), then before handing out
    /// each page starts reading the one after it, so the database works while the caller writes.
    /// </summary>
    private async IAsyncEnumerable<IReadOnlyList<T>> PagesAsync<T, TPosition>(
        Func<TPosition?, int, CancellationToken, Task<List<T>?>> read, Func<T, TPosition> positionOf, Func<T, long> textBytesOf,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var size = new ExportPageSize();
        var take = size.Next;
        var page = await read(default, take, cancellationToken) ?? throw new RunNotFoundException(RunId);
        Task<List<T>?>? next = null;
        try
        {
            while (page is { Count: > 0 })
            {
                size.Observe(page.Count, page.Sum(textBytesOf));
                // A short page is the last one: nothing follows it to read ahead.
                next = page.Count < take ? null : read(positionOf(page[^1]), take = size.Next, cancellationToken);
                yield return page;
                page = next is null ? null : await next;
                next = null;
            }
        }
        finally
        {
            // Abandoned (the caller stopped or went away): let the read ahead finish, so its connection goes back to the
            // pool; what it read, or why it failed, no longer matters to anyone.
            if (next is not null)
            {
                try
                {
                    await next;
                }
                catch (Exception)
                {
                }
            }
        }
    }

    // .NET holds text as UTF-16: two bytes a character.
    private static long IterationTextBytes(IterationView i) =>
        2L * (i.ParamsJson.Length + (i.CandidateProgramJson?.Length ?? 0) + i.MetadataJson.Length);
}
