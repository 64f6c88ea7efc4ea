namespace OptimizationRuns.Grains.Health;

/// <summary>Readiness as the silo sees it: the caller reached a silo, and the silo reached the database.</summary>
public interface IHealthGrain : IGrainWithIntegerKey
{
    /// <summary>Checks the database from inside the silo; never throws for an unreachable database.</summary>
    Task<HealthReport> CheckAsync(CancellationToken cancellationToken = default);
}

/// <summary>The answer of <see cref="IHealthGrain.CheckAsync"/>.</summary>
/// <param name="Silo">The address of the silo that answered.</param>
/// <param name="DatabaseReachable">Whether a query against PostgreSQL succeeded.</param>
/// <param name="DatabaseLatencyMs">How long that query took.</param>
/// <param name="Error">Why the database was not reachable, if it was not.</param>
[GenerateSerializer, Immutable, Alias("health.HealthReport")]
public sealed record HealthReport(
    [property: Id(0)] string Silo,
    [property: Id(1)] bool DatabaseReachable,
    [property: Id(2)] double DatabaseLatencyMs,
    [property: Id(3)] string? Error);
