using OptimizationRuns.Grains.Errors;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// What a grain's failure looks like to its caller on the other side of the wire (the test cluster's client, as the
/// gateway's): a database failure arrives as the grains' own typed error, never as the driver's exception nor as a
/// serializer error; other unserializable exceptions arrive named.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GrainBoundaryTests(ClusterFixture fixture)
{
    private IFailingGrain Grain => fixture.Client.GetGrain<IFailingGrain>(Guid.NewGuid());

    [Theory]
    [InlineData(Failure.ConnectionRefused)]
    [InlineData(Failure.StorageWrapped)]
    public async Task AnUnavailableDatabaseArrivesAsStorageUnavailable(Failure failure)
    {
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => Grain.FailAsync(failure));

        Assert.True(error.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public async Task DataTheDatabaseRefusesArrivesAsWriteRejectedNamingTheConstraint()
    {
        var error = await Assert.ThrowsAsync<WriteRejectedException>(() => Grain.FailAsync(Failure.UniqueViolation));

        Assert.Equal("optimization_samples_pkey", error.Constraint);
    }

    [Fact]
    public async Task AnUnserializableExceptionArrivesNamedInsteadOfAsASerializerError()
    {
        var error = await Assert.ThrowsAsync<InternalErrorException>(() => Grain.FailAsync(Failure.Unserializable));

        Assert.Equal(typeof(UnclassifiedException).FullName, error.ErrorType);
        Assert.Contains("something nobody classified", error.Message);
    }

    [Fact]
    public async Task ASerializableExceptionArrivesUnchanged()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Grain.FailAsync(Failure.Serializable));

        Assert.Equal("an ordinary failure", error.Message);
    }

    [Theory]
    [InlineData(Failure.ConnectionRefused)]
    [InlineData(Failure.StorageWrapped)]
    public async Task AStreamThatFailsOnTheDatabaseEndsWithStorageUnavailable(Failure failure)
    {
        var seen = new List<int>();

        await Assert.ThrowsAsync<StorageUnavailableException>(async () =>
        {
            await foreach (var item in Grain.CountThenFailAsync(failure))
            {
                seen.Add(item);
            }
        });

        Assert.Equal([1], seen);
    }

    // No call filter runs for an activation: the serializer turns the driver's exception into the grain error.
    [Fact]
    public async Task AnActivationThatFailsOnTheDatabaseArrivesAsStorageUnavailable()
    {
        var grain = fixture.Client.GetGrain<IFailingActivationGrain>(Guid.NewGuid());

        await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.PingAsync());
    }
}
