namespace OptimizationRuns.Gateway.Dashboard.Components;

/// <summary>A word-level diff (longest common subsequence) of two short texts, for showing predictions side by side.</summary>
public static class WordDiff
{
    public enum Kind { Same, Removed, Added }

    // Past this many words a diff costs more than it shows: the texts are shown whole, old then new.
    private const int MaxWords = 400;

    public static IReadOnlyList<(Kind Kind, string Text)> Compare(string? before, string? after)
    {
        var a = Split(before);
        var b = Split(after);
        if (a.Length > MaxWords || b.Length > MaxWords)
        {
            return [(Kind.Removed, before ?? ""), (Kind.Added, after ?? "")];
        }

        var lengths = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lengths[i, j] = a[i] == b[j] ? lengths[i + 1, j + 1] + 1 : Math.Max(lengths[i + 1, j], lengths[i, j + 1]);
            }
        }

        var parts = new List<(Kind, string)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                Add(parts, Kind.Same, a[x++]);
                y++;
            }
            else if (x < a.Length && (y == b.Length || lengths[x + 1, y] >= lengths[x, y + 1]))
            {
                Add(parts, Kind.Removed, a[x++]);
            }
            else
            {
                Add(parts, Kind.Added, b[y++]);
            }
        }

        return parts;
    }

    // Words keep their following whitespace, so the parts joined are the texts again.
    private static string[] Split(string? text) =>
        string.IsNullOrEmpty(text) ? [] : System.Text.RegularExpressions.Regex.Matches(text, @"\S+\s*|\s+").Select(m => m.Value).ToArray();

    private static void Add(List<(Kind, string)> parts, Kind kind, string word)
    {
        if (parts.Count > 0 && parts[^1].Item1 == kind)
        {
            parts[^1] = (kind, parts[^1].Item2 + word);
        }
        else
        {
            parts.Add((kind, word));
        }
    }
}
