using OptimizationRuns.Grains.Analysis;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>What an export holds: one of the run's tables.</summary>
public enum ExportTable
{
    Samples,
    Iterations,
    Candidates,
}

/// <summary>How an export is written: JSON Lines or CSV.</summary>
public enum ExportFormat
{
    Jsonl,
    Csv,
}

/// <summary>The export's choice of table and format.</summary>
public sealed record ExportQuery(ExportTable What, ExportFormat Format);

/// <summary>
/// The query strings of a run's analyses, read with <see cref="QueryParameters"/>' rules: a bad value answers 400
/// naming its parameter.
/// </summary>
public static class RunAnalysisParameters
{
    public const int DefaultExamplePage = 50;
    public const int MaxExamplePage = 500;

    /// <summary>The examples' sort names.</summary>
    public static readonly IReadOnlyDictionary<string, ExampleSort> ExampleSorts = new Dictionary<string, ExampleSort>(StringComparer.Ordinal)
    {
        ["hardest"] = ExampleSort.Hardest,
        ["flakiest"] = ExampleSort.Flakiest,
    };

    /// <summary>The export's tables, by name.</summary>
    public static readonly IReadOnlyDictionary<string, ExportTable> ExportTables = new Dictionary<string, ExportTable>(StringComparer.Ordinal)
    {
        ["samples"] = ExportTable.Samples,
        ["iterations"] = ExportTable.Iterations,
        ["candidates"] = ExportTable.Candidates,
    };

    /// <summary>The export's formats, by name.</summary>
    public static readonly IReadOnlyDictionary<string, ExportFormat> ExportFormats = new Dictionary<string, ExportFormat>(StringComparer.Ordinal)
    {
        ["jsonl"] = ExportFormat.Jsonl,
        ["csv"] = ExportFormat.Csv,
    };

    /// <summary>A run's examples page query, or null with the errors recorded.</summary>
    public static ExampleQuery? Examples(
        this QueryParameters parameters, Guid runId, string? sort, string? kind, string? minEvaluations, string? limit, string? cursor)
    {
        var sortValue = ExampleSort.Hardest;
        if (!string.IsNullOrEmpty(sort) && !ExampleSorts.TryGetValue(sort, out sortValue))
        {
            parameters.Add("sort", "Must be one of " + string.Join(", ", ExampleSorts.Keys) + ".");
        }

        var least = parameters.NonNegative(minEvaluations, "minEvaluations");
        if (least == 0)
        {
            parameters.Add("minEvaluations", "Must be a whole number ≥ 1.");
        }

        var query = new ExampleQuery
        {
            RunId = runId,
            Sort = sortValue,
            Kind = parameters.Name<IterationKind>(kind, "kind"),
            MinEvaluations = least ?? 1,
            Limit = parameters.Limit(limit, DefaultExamplePage, MaxExamplePage),
        };

        if (!string.IsNullOrEmpty(cursor) && parameters.Valid)
        {
            if (ExampleCursors.TryDecode(cursor, runId, sortValue, out var after))
            {
                query = query with { After = after };
            }
            else
            {
                parameters.Add("cursor", "Not a cursor of this run's examples: pass nextCursor as answered, with the same sort.");
            }
        }

        return parameters.Valid ? query : null;
    }

    /// <summary>An export's table and format (default: samples as JSON Lines), or null with the errors recorded.</summary>
    public static ExportQuery? Export(this QueryParameters parameters, string? what, string? format)
    {
        var table = ExportTable.Samples;
        if (!string.IsNullOrEmpty(what) && !ExportTables.TryGetValue(what, out table))
        {
            parameters.Add("what", "Must be one of " + string.Join(", ", ExportTables.Keys) + ".");
        }

        var formatValue = ExportFormat.Jsonl;
        if (!string.IsNullOrEmpty(format) && !ExportFormats.TryGetValue(format, out formatValue))
        {
            parameters.Add("format", "Must be one of " + string.Join(", ", ExportFormats.Keys) + ".");
        }

        return parameters.Valid ? new ExportQuery(table, formatValue) : null;
    }
}
