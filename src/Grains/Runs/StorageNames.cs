namespace OptimizationRuns.Grains.Runs;

/// <summary>Names of the grain storage providers the grains use (the silo registers them).</summary>
public static class StorageNames
{
    /// <summary>Live run state, on PostgreSQL through Orleans' ADO.NET grain storage.</summary>
    public const string Runs = "runs";
}
