namespace OptimizationRuns.Silo.Migrations;

/// <summary><c>up</c> refused: migrations already applied to the database differ from this build's scripts.</summary>
public sealed class MigrationChangedException(IReadOnlyList<string> migrations) : InvalidOperationException(
    $"Refusing to migrate: applied migration(s) {string.Join(", ", migrations)} changed since they were applied " +
    "(their checksum in schema_migrations differs from this build's script). Restore the script as it was applied " +
    "and put the change in a new migration; `migrate status` lists them.")
{
    /// <summary>The changed migrations, as <c>NNNN_name</c>.</summary>
    public IReadOnlyList<string> Migrations { get; } = migrations;
}
