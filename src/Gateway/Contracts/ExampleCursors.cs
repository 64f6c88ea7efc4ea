using System.Buffers.Text;
using System.Globalization;
using System.Text;
using OptimizationRuns.Grains.Analysis;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// Cursors of a run's examples pages, like <see cref="Cursors"/>: the last example's position as text
/// (<c>examples-hardest:run:first:second:key</c>, the key last since it may hold the separator), base64url, no checksum.
/// A cursor of another run or order is refused.
/// </summary>
public static class ExampleCursors
{
    // An example id has at most 200 characters of up to 4 UTF-8 bytes each.
    private const int MaxLength = 1_500;
    private const char Separator = ':';

    public static string Encode(Guid runId, ExampleSort sort, ExamplePosition position) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join(
        Separator, Tag(sort), runId.ToString("N"), position.First.ToString(CultureInfo.InvariantCulture),
        position.Second.ToString(CultureInfo.InvariantCulture), position.Key)));

    public static bool TryDecode(string cursor, Guid runId, ExampleSort sort, out ExamplePosition? position)
    {
        position = null;
        if (cursor.Length is 0 or > MaxLength || !Base64Url.IsValid(cursor))
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

        if (text.Split(Separator, 5) is not [var tag, var runText, var firstText, var secondText, var key]
            || tag != Tag(sort) || runText != runId.ToString("N") || key.Length == 0
            || !decimal.TryParse(firstText, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var first)
            || !long.TryParse(secondText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var second))
        {
            return false;
        }

        position = new ExamplePosition(first, second, key);
        return true;
    }

    private static string Tag(ExampleSort sort) => sort == ExampleSort.Flakiest ? "examples-flakiest" : "examples-hardest";
}
