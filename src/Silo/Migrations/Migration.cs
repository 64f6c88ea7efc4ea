namespace OptimizationRuns.Silo.Migrations;

/// <summary>One numbered schema change: the SQL that applies it and the SQL that undoes it.</summary>
/// <param name="Version">The number in the file name (0001_… → 1); migrations apply in this order.</param>
/// <param name="Name">The rest of the file name, e.g. <c>tracking_schema</c>.</param>
/// <param name="UpSql">Applies the change; runs inside one transaction.</param>
/// <param name="DownSql">Undoes the change; runs inside one transaction.</param>
public sealed record Migration(int Version, string Name, string UpSql, string DownSql)
{
    /// <summary>SHA-256 of the up script, recorded when applied, so an edited migration is noticed.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(UpSql)));
}
