using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Grains.Analysis;

/// <summary>
/// A run's rows as a stream of pages, for export: each page is read from the database (keyset along the primary
/// key) only when the caller asks for it, so neither side ever holds more than a page or two, however large the run.
/// Keyed like the run's own grain, by the run id with the project id as key extension
/// (<c>GetGrain&lt;IRunExportGrain&gt;(runId, projectId.ToString())</c>). The first page tells whether the run is
/// visible: a run of another project, or none, throws <see cref="Runs.RunNotFoundException"/> before any page.
/// </summary>
/// <remarks>
/// Not a stateless worker: a stream's pages are asked for by one call each, and every call must reach the
/// activation that holds the stream's enumerator (a stateless worker's calls go to any of its activations).
/// Ask for one page per call (<c>.WithBatchSize(1)</c>): a page is already a batch of rows.
/// </remarks>
public interface IRunExportGrain : IGrainWithGuidCompoundKey
{
    /// <summary>The run's samples in (iteration, sample index) order, a page at a time (no page is empty).</summary>
    IAsyncEnumerable<IReadOnlyList<SampleExportRow>> ExportSamplesAsync(CancellationToken cancellationToken = default);

    /// <summary>The run's iterations in order, a page at a time (no page is empty).</summary>
    IAsyncEnumerable<IReadOnlyList<IterationView>> ExportIterationsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The run's candidates, recorded or only chosen by iterations, with their statistics: predictors as
    /// <c>GET …/candidates</c> orders them (numeric ids in numeric order, then names), instructions before demo sets,
    /// then by index; a page at a time (no page is empty).
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<CandidateExportRow>> ExportCandidatesAsync(CancellationToken cancellationToken = default);
}
