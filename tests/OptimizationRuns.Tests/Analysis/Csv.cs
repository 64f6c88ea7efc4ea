using System.Text;

namespace OptimizationRuns.Tests.Analysis;

/// <summary>An RFC 4180 reader for the tests: quoted cells may hold separators, doubled quotes and line breaks; an
/// unquoted empty cell is null, a quoted empty one the empty string.</summary>
public static class Csv
{
    public static List<List<string?>> Parse(string text)
    {
        var rows = new List<List<string?>>();
        var row = new List<string?>();
        var cell = new StringBuilder();
        var quoted = false;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '"' && cell.Length == 0 && !quoted)
            {
                quoted = true;
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new FormatException("An unterminated quoted cell.");
                    }

                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            cell.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    cell.Append(text[i++]);
                }

                continue;
            }

            if (c == ',')
            {
                row.Add(End(cell, ref quoted));
                i++;
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(End(cell, ref quoted));
                rows.Add(row);
                row = [];
                i += 2;
            }
            else if (c is '"' or '\r' or '\n')
            {
                throw new FormatException($"'{c}' outside a quoted cell at {i}.");
            }
            else
            {
                cell.Append(c);
                i++;
            }
        }

        if (row.Count > 0 || cell.Length > 0)
        {
            throw new FormatException("The last line does not end with CRLF.");
        }

        return rows;
    }

    private static string? End(StringBuilder cell, ref bool quoted)
    {
        var value = cell.Length == 0 && !quoted ? null : cell.ToString();
        cell.Clear();
        quoted = false;
        return value;
    }
}
