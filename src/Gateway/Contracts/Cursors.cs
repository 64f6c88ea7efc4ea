using System.Buffers.Text;
using System.Globalization;
using System.Text;
using OptimizationRuns.Grains.Projects;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// Page cursors: the last row's position as text (<c>list:sort-key:id</c>), base64url so it travels in a URL as
/// one opaque token. A cursor is a position, not a secret: an edited one that still parses is just another place in
/// the caller's own list (row-level security decides what is visible); one of another list or order is refused.
/// </summary>
public static class Cursors
{
    private const char Separator = ':';

    public static string Encode(RunSort sort, RunPosition position) => Pack(
        SortTag(sort),
        sort == RunSort.CreatedAt
            ? position.CreatedAt!.Value.UtcTicks.ToString(CultureInfo.InvariantCulture)
            : position.Score?.ToString(CultureInfo.InvariantCulture) ?? "",
        position.Id.ToString("N"));

    public static bool TryDecode(string cursor, RunSort sort, out RunPosition? position)
    {
        position = null;
        if (Unpack(cursor, SortTag(sort), 2) is not [var key, var idText] || !Guid.TryParseExact(idText, "N", out var id))
        {
            return false;
        }

        if (sort == RunSort.CreatedAt)
        {
            if (!long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
            {
                return false;
            }

            position = new RunPosition(id, CreatedAt: new DateTimeOffset(ticks, TimeSpan.Zero));
            return true;
        }

        if (key.Length == 0)
        {
            position = new RunPosition(id);
            return true;
        }

        if (!decimal.TryParse(key, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var score))
        {
            return false;
        }

        position = new RunPosition(id, Score: score);
        return true;
    }

    public static string Encode(SamplePosition position) => EncodeSample("samples", position);

    public static bool TryDecode(string cursor, out SamplePosition? position) => TryDecodeSample(cursor, "samples", out position);

    public static string EncodeTrace(SamplePosition position) => EncodeSample("trace", position);

    public static bool TryDecodeTrace(string cursor, out SamplePosition? position) => TryDecodeSample(cursor, "trace", out position);

    public static string Encode(ProjectPosition position) =>
        Pack("projects", position.CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture), position.Id.ToString("N"));

    public static bool TryDecode(string cursor, out ProjectPosition? position)
    {
        position = null;
        if (Unpack(cursor, "projects", 2) is not [var ticksText, var idText] || !Guid.TryParseExact(idText, "N", out var id)
            || !long.TryParse(ticksText, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        position = new ProjectPosition(new DateTimeOffset(ticks, TimeSpan.Zero), id);
        return true;
    }

    private static string EncodeSample(string list, SamplePosition position) => Pack(list, position.RunId.ToString("N"),
        position.Iteration.ToString(CultureInfo.InvariantCulture), position.SampleIndex.ToString(CultureInfo.InvariantCulture));

    private static bool TryDecodeSample(string cursor, string list, out SamplePosition? position)
    {
        position = null;
        if (Unpack(cursor, list, 3) is not [var runText, var iterationText, var indexText]
            || !Guid.TryParseExact(runText, "N", out var runId)
            || !int.TryParse(iterationText, NumberStyles.None, CultureInfo.InvariantCulture, out var iteration)
            || !int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return false;
        }

        position = new SamplePosition(runId, iteration, index);
        return true;
    }

    private static string SortTag(RunSort sort) => sort switch
    {
        RunSort.FinalScore => "runs-final",
        RunSort.BestScore => "runs-best",
        RunSort.Improvement => "runs-improvement",
        _ => "runs-created",
    };

    private static string Pack(string list, params string[] fields) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(list + Separator + string.Join(Separator, fields)));

    /// <summary>The fields of a cursor of <paramref name="list"/>, if it is one with <paramref name="count"/> fields.</summary>
    private static string[]? Unpack(string cursor, string list, int count)
    {
        if (cursor.Length is 0 or > 200 || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor)).Split(Separator);
        return parts.Length == count + 1 && parts[0] == list ? parts[1..] : null;
    }
}
