using System.Runtime.CompilerServices;
using Npgsql;

namespace OptimizationRuns.Tests.Faults;

/// <summary>How <see cref="IFailingGrain"/> fails.</summary>
public enum Failure
{
    /// <summary>The driver's exception for a refused connection, thrown as it is.</summary>
    ConnectionRefused,

    /// <summary>The same, wrapped in an OrleansException as Orleans' grain storage wraps it.</summary>
    StorageWrapped,

    /// <summary>A unique violation reported by the server.</summary>
    UniqueViolation,

    /// <summary>An exception of a type Orleans has no codec for, unrelated to the database.</summary>
    Unserializable,

    /// <summary>An ordinary serializable exception, which must cross unchanged.</summary>
    Serializable,
}

/// <summary>A grain that fails the ways a grain of ours can, to test what crosses the grain boundary.</summary>
public interface IFailingGrain : IGrainWithGuidKey
{
    Task FailAsync(Failure failure);

    IAsyncEnumerable<int> CountThenFailAsync(Failure failure, CancellationToken cancellationToken = default);
}

/// <summary>A grain whose activation fails on the database, as a grain that loads its row on activation does.</summary>
public interface IFailingActivationGrain : IGrainWithGuidKey
{
    Task<int> PingAsync();
}

/// <summary>Not serializable by Orleans: no [GenerateSerializer], and not in a namespace Orleans' exception codec accepts.</summary>
public sealed class UnclassifiedException(string message) : Exception(message);

public sealed class FailingGrain : Grain, IFailingGrain
{
    public async Task FailAsync(Failure failure) => throw await CreateAsync(failure);

    public async IAsyncEnumerable<int> CountThenFailAsync(Failure failure, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return 1;
        // The failure arrives in a later MoveNext, as a database read inside a live stream would.
        await Task.Delay(50, cancellationToken);
        throw await CreateAsync(failure);
    }

    internal static async Task<Exception> CreateAsync(Failure failure) => failure switch
    {
        Failure.ConnectionRefused => await DriverErrors.ConnectionRefusedAsync(),
        Failure.StorageWrapped => new OrleansException("Error from storage provider AdoNetGrainStorage.runs during WriteStateAsync",
            await DriverErrors.ConnectionRefusedAsync()),
        Failure.UniqueViolation => DriverErrors.Server(PostgresErrorCodes.UniqueViolation, "optimization_samples_pkey"),
        Failure.Unserializable => new UnclassifiedException("something nobody classified"),
        _ => new InvalidOperationException("an ordinary failure"),
    };
}

public sealed class FailingActivationGrain : Grain, IFailingActivationGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken) =>
        throw await DriverErrors.ConnectionRefusedAsync();

    public Task<int> PingAsync() => Task.FromResult(1);
}
