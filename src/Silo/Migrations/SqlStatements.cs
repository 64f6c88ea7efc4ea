namespace OptimizationRuns.Silo.Migrations;

/// <summary>
/// Splits a script into its statements, for migrations that run outside a transaction: PostgreSQL runs several
/// statements sent together as one implicit transaction, where <c>CREATE INDEX CONCURRENTLY</c> is refused.
/// Semicolons inside quotes ('…', "…"), dollar quotes ($$…$$, $tag$…$tag$) and comments do not split.
/// </summary>
public static class SqlStatements
{
    /// <summary>The statements of <paramref name="script"/>, trimmed, without empty or comment-only ones.</summary>
    public static IReadOnlyList<string> Split(string script)
    {
        var statements = new List<string>();
        var start = 0;
        var hasCode = false;
        var i = 0;
        while (i < script.Length)
        {
            var c = script[i];
            var next = i + 1 < script.Length ? script[i + 1] : '\0';
            if (c == '-' && next == '-')
            {
                i = IndexAfter(script, "\n", i + 2);
                continue;
            }

            if (c == '/' && next == '*')
            {
                i = IndexAfter(script, "*/", i + 2);
                continue;
            }

            if (c == ';')
            {
                Add(statements, script[start..i], hasCode);
                start = ++i;
                hasCode = false;
                continue;
            }

            hasCode |= !char.IsWhiteSpace(c);
            i = c switch
            {
                '\'' or '"' => QuotedEnd(script, i, c),
                '$' when DollarTag(script, i) is { } tag => IndexAfter(script, tag, i + tag.Length),
                _ => i + 1,
            };
        }

        Add(statements, script[start..], hasCode);
        return statements;
    }

    private static void Add(List<string> statements, string text, bool hasCode)
    {
        if (hasCode)
        {
            statements.Add(text.Trim());
        }
    }

    // A doubled quote inside a quoted string or identifier is the quote itself, not its end.
    private static int QuotedEnd(string script, int open, char quote)
    {
        var i = open + 1;
        while (i < script.Length)
        {
            if (script[i] == quote)
            {
                if (i + 1 < script.Length && script[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return script.Length;
    }

    // $$ or $identifier$ opens a dollar-quoted string; $1 (a parameter) does not.
    private static string? DollarTag(string script, int at)
    {
        var end = at + 1;
        while (end < script.Length && (char.IsLetterOrDigit(script[end]) || script[end] == '_'))
        {
            end++;
        }

        if (end >= script.Length || script[end] != '$' || (end > at + 1 && char.IsDigit(script[at + 1])))
        {
            return null;
        }

        return script[at..(end + 1)];
    }

    private static int IndexAfter(string script, string token, int from)
    {
        var found = script.IndexOf(token, from, StringComparison.Ordinal);
        return found < 0 ? script.Length : found + token.Length;
    }
}
