using System.Buffers.Text;
using System.Globalization;
using System.Text;
using OptimizationRuns.Grains.Comparisons;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// The comparison endpoints' query strings, read as text so a bad value answers 400 naming its parameter (recorded in
/// a <see cref="QueryParameters"/>, like every other query's).
/// </summary>
public static class CompareParameters
{
    public const int DefaultPage = 50;
    public const int MaxPage = ComparisonExamplesQuery.MaxLimit;

    /// <summary>The comparison of <c>a</c> and <c>b</c>, or null with the errors recorded.</summary>
    public static ComparisonQuery? Comparison(this QueryParameters parameters, string? a, string? b, string? aIteration, string? bIteration)
    {
        var runA = RunId(parameters, a, "a");
        var runB = RunId(parameters, b, "b");
        var iterationA = parameters.NonNegative(aIteration, "aIteration");
        var iterationB = parameters.NonNegative(bIteration, "bIteration");
        if (parameters.Valid && runA == runB && iterationA == iterationB)
        {
            parameters.Add("bIteration", iterationB is null
                ? "a and b are the same run: name the iterations to compare, e.g. aIteration=0 (the baseline) against the best by default."
                : "Must differ from aIteration when a and b are the same run.");
        }

        return parameters.Valid ? new ComparisonQuery(new ComparisonSide(runA, iterationA), new ComparisonSide(runB, iterationB)) : null;
    }

    /// <summary>A page of the comparison's pairs, or null with the errors recorded.</summary>
    public static ComparisonExamplesQuery? ComparisonExamples(
        this QueryParameters parameters, string? a, string? b, string? aIteration, string? bIteration, string? bucket,
        string? limit, string? cursor)
    {
        var comparison = parameters.Comparison(a, b, aIteration, bIteration);
        ComparisonBucket? only = null;
        if (!string.IsNullOrEmpty(bucket))
        {
            if (ComparisonBuckets.TryParse(bucket, out var parsed))
            {
                only = parsed;
            }
            else
            {
                parameters.Add("bucket", "Must be one of " + string.Join(", ", ComparisonBuckets.Names) + ".");
            }
        }

        var pageSize = parameters.Limit(limit, DefaultPage, MaxPage);
        if (comparison is null || !parameters.Valid)
        {
            return null;
        }

        string? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            // A cursor keeps the iterations its page compared, so a new best committed meanwhile does not change the list.
            if (CompareCursors.TryDecode(cursor, out var position) && position!.Bucket == only
                && position.A.RunId == comparison.A.RunId && position.B.RunId == comparison.B.RunId
                && (comparison.A.Iteration ?? position.A.Iteration) == position.A.Iteration
                && (comparison.B.Iteration ?? position.B.Iteration) == position.B.Iteration)
            {
                comparison = new ComparisonQuery(position.A, position.B);
                after = position.AfterKey;
            }
            else
            {
                parameters.Add("cursor", "Not a cursor of this comparison and bucket: pass nextCursor as answered, with the same a, b and bucket.");
                return null;
            }
        }

        return new ComparisonExamplesQuery { Comparison = comparison, Bucket = only, Limit = pageSize, AfterKey = after };
    }

    private static Guid RunId(QueryParameters parameters, string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            parameters.Add(field, "Required: the id of a run of this project.");
        }
        else if (Guid.TryParse(text, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }
        else
        {
            parameters.Add(field, "Must be a run id (a UUID).");
        }

        return Guid.Empty;
    }
}

/// <summary>
/// Where a page of a comparison's pairs stands: both sides' runs and iterations, the bucket, and the last example key,
/// as text (<c>compare:bucket:runA:iterationA:runB:iterationB:key</c>, the key last since it may hold the separator) in
/// base64url. A position, not a secret: one edited to another place in the caller's own comparison is only that place.
/// </summary>
public static class CompareCursors
{
    private const string List = "compare";
    private const string AllBuckets = "*";
    private const int MaxLength = 2_000;

    /// <summary>The position after <see cref="AfterKey"/> in the comparison of the two sides' iterations.</summary>
    public sealed record Position(ComparisonSide A, ComparisonSide B, ComparisonBucket? Bucket, string AfterKey);

    public static string Encode(ComparedIteration a, ComparedIteration b, ComparisonBucket? bucket, string key) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join(':',
            List, bucket?.ToName() ?? AllBuckets, a.RunId.ToString("N"), a.Iteration.ToString(CultureInfo.InvariantCulture),
            b.RunId.ToString("N"), b.Iteration.ToString(CultureInfo.InvariantCulture), key)));

    public static bool TryDecode(string cursor, out Position? position)
    {
        position = null;
        if (cursor.Length > MaxLength || !Base64Url.IsValid(cursor))
        {
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        if (text.Split(':', 7) is not [List, var bucketText, var runA, var iterationA, var runB, var iterationB, var key]
            || !Guid.TryParseExact(runA, "N", out var idA) || !Guid.TryParseExact(runB, "N", out var idB)
            || !int.TryParse(iterationA, NumberStyles.None, CultureInfo.InvariantCulture, out var a)
            || !int.TryParse(iterationB, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
        {
            return false;
        }

        ComparisonBucket? bucket = null;
        if (bucketText != AllBuckets)
        {
            if (!ComparisonBuckets.TryParse(bucketText, out var parsed))
            {
                return false;
            }

            bucket = parsed;
        }

        position = new Position(new ComparisonSide(idA, a), new ComparisonSide(idB, b), bucket, key);
        return true;
    }
}
