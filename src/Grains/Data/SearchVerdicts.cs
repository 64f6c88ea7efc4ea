using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// The planner's verdicts on searches (read the matching ids first, or walk the order), remembered per project,
/// search and page size for <see cref="KeptFor"/>. A verdict comes from <c>search_run_estimate()</c>, which plans two
/// statements of a table with 16 indexes: 1.3–2.3 ms of PostgreSQL's time per search on the 10 M-sample database,
/// where a whole config search cost it 4.7–5.2 ms (BENCHMARKS.md, "A search's verdict, kept a minute"). It moves
/// with the table's statistics (an ANALYZE) and, slowly, with its size; one that is out of date costs time, not the
/// answer: either way of reading finds the same page.
/// </summary>
public sealed class SearchVerdicts
{
    /// <summary>How long a verdict is used before the planner is asked again.</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(1);

    /// <summary>The most verdicts kept; each key is a hash of fixed size, so this bounds memory whatever callers search for.</summary>
    public const int MaxKept = 10_000;

    // Lives as long as the silo's data services; it holds no timer or handle (expired entries go as it is used).
    private readonly MemoryCache _verdicts = new(new MemoryCacheOptions { SizeLimit = MaxKept });

    /// <summary>Whether the search reads its ids first (true) or walks (false); null when no verdict is kept.</summary>
    public bool? IdsFirst(Guid projectId, RunListQuery query, int take) =>
        _verdicts.TryGetValue(Key(projectId, query, take), out bool idsFirst) ? idsFirst : null;

    /// <summary>Keeps the planner's verdict on the search for <see cref="KeptFor"/>.</summary>
    public void Remember(Guid projectId, RunListQuery query, int take, bool idsFirst) =>
        _verdicts.Set(Key(projectId, query, take), idsFirst,
            new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = KeptFor });

    // What the verdict depends on: the project, the search's criteria and the page size (the walk's length). The
    // criteria as JSON (each value quoted and escaped, so no two searches share an encoding), hashed: a search's text
    // may be kilobytes.
    private static string Key(Guid projectId, RunListQuery query, int take)
    {
        var criteria = JsonSerializer.SerializeToUtf8Bytes(
            new object?[] { take, query.Tags, query.ConfigJson, query.MetadataJson, query.NameContains });
        return projectId.ToString("N") + Convert.ToBase64String(SHA256.HashData(criteria));
    }
}
