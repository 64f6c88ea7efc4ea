using System.Security.Cryptography;
using System.Text;

namespace OptimizationRuns.Silo.Migrations;

/// <summary>One numbered schema change: the SQL that applies it and the SQL that undoes it.</summary>
/// <param name="Version">The number in the file name (0001_… → 1); migrations apply in this order.</param>
/// <param name="Name">The rest of the file name, e.g. <c>tracking_schema</c>.</param>
/// <param name="UpSql">Applies the change; runs inside one transaction unless it starts with <see cref="NoTransactionMarker"/>.</param>
/// <param name="DownSql">Undoes the change; the same rule.</param>
public sealed record Migration(int Version, string Name, string UpSql, string DownSql)
{
    /// <summary>
    /// A script whose first line is this runs outside a transaction, one statement at a time (for
    /// <c>CREATE INDEX CONCURRENTLY</c>, <c>DETACH PARTITION … CONCURRENTLY</c>). A failure part-way leaves the
    /// statements before it applied and the migration unrecorded, so such a script must be safe to run again.
    /// </summary>
    public const string NoTransactionMarker = "-- optruns:no-transaction";

    // Checksums are computed, not stored: `with { UpSql = … }` copies stored values and would keep the old one.

    /// <summary>
    /// SHA-256 of the up script's statements, recorded when applied, so an edited migration is noticed. Lines that are
    /// only a comment (other than the marker) and trailing white space do not count: fixing a comment changes nothing.
    /// </summary>
    public string Checksum => Hash(StatementText(UpSql));

    /// <summary>The checksum this migrator recorded before comments were left out (SHA-256 of the whole file).</summary>
    public string LegacyChecksum => Hash(UpSql);

    /// <summary>Whether the up script runs outside a transaction.</summary>
    public bool UpRunsOutsideTransaction => StartsWithMarker(UpSql);

    /// <summary>Whether the down script runs outside a transaction.</summary>
    public bool DownRunsOutsideTransaction => StartsWithMarker(DownSql);

    private static bool StartsWithMarker(string script) =>
        script.TrimStart('\uFEFF').StartsWith(NoTransactionMarker, StringComparison.Ordinal);

    private static string StatementText(string script) => string.Join('\n', script
        .Split('\n')
        .Select(line => line.TrimEnd())
        .Where(line => line.Length > 0 && (!line.TrimStart().StartsWith("--", StringComparison.Ordinal) || line == NoTransactionMarker)));

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
