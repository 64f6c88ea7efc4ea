using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Errors;
using Xunit;

namespace OptimizationRuns.Tests.Faults;

/// <summary>Which database failures a retry may cure (503) and which it will not (422).</summary>
public sealed class DatabaseFailuresTests
{
    [Fact]
    public async Task ARefusedConnectionIsUnavailable()
    {
        var refused = await DriverErrors.ConnectionRefusedAsync();

        Assert.True(DatabaseFailures.IsDatabaseFailure(refused));
        Assert.True(DatabaseFailures.IsTransient(refused));
        var error = Assert.IsType<StorageUnavailableException>(DatabaseFailures.ToGrainError(refused));
        Assert.True(error.RetryAfter > TimeSpan.Zero);
        Assert.Null(error.InnerException);
    }

    // Orleans' ADO.NET grain storage wraps the driver's exception in its own.
    [Fact]
    public async Task AGrainStorageFailureIsClassifiedByTheDriversExceptionInside()
    {
        var wrapped = new OrleansException("Error from storage provider AdoNetGrainStorage.runs during WriteStateAsync", await DriverErrors.ConnectionRefusedAsync());

        Assert.True(DatabaseFailures.IsDatabaseFailure(wrapped));
        Assert.IsType<StorageUnavailableException>(DatabaseFailures.ToGrainError(wrapped));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown)]          // 57P01: the server is shutting down
    [InlineData(PostgresErrorCodes.SerializationFailure)]   // 40001
    [InlineData(PostgresErrorCodes.DeadlockDetected)]       // 40P01
    [InlineData(PostgresErrorCodes.TooManyConnections)]     // 53300
    [InlineData(PostgresErrorCodes.CannotConnectNow)]       // 57P03: starting up
    public void AServerErrorARetryMayCureIsUnavailable(string sqlState)
    {
        var error = DriverErrors.Server(sqlState);

        Assert.True(DatabaseFailures.IsDatabaseFailure(error));
        Assert.True(DatabaseFailures.IsTransient(error), sqlState);
        Assert.IsType<StorageUnavailableException>(DatabaseFailures.ToGrainError(error));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.UniqueViolation, "optimization_samples_pkey")]               // 23505
    [InlineData(PostgresErrorCodes.CheckViolation, "optimization_samples_score_check")]        // 23514
    [InlineData(PostgresErrorCodes.CharacterNotInRepertoire, "optimization_samples_inputs")]   // 22021: a NUL in text
    public void DataTheDatabaseRefusesIsRejectedNamingTheConstraint(string sqlState, string constraint)
    {
        var error = DriverErrors.Server(sqlState, constraint);

        Assert.True(DatabaseFailures.IsDatabaseFailure(error));
        Assert.False(DatabaseFailures.IsTransient(error), sqlState);
        var rejected = Assert.IsType<WriteRejectedException>(DatabaseFailures.ToGrainError(error));
        Assert.Equal(constraint, rejected.Constraint);
        Assert.Contains(constraint, rejected.Message);
    }

    [Fact]
    public void ASamplePartitionsKeyIsReportedAsTheTablesKey()
    {
        var error = DriverErrors.Server(PostgresErrorCodes.UniqueViolation, "optimization_samples_p06_pkey");

        var rejected = Assert.IsType<WriteRejectedException>(DatabaseFailures.ToGrainError(error));
        Assert.Equal("optimization_samples_pk", rejected.Constraint);
        Assert.DoesNotContain("_p06", rejected.Message);
    }

    [Fact]
    public void AColumnIsNamedWhenTheServerNamesNoConstraint()
    {
        var rejected = Assert.IsType<WriteRejectedException>(
            DatabaseFailures.ToGrainError(DriverErrors.Server(PostgresErrorCodes.CharacterNotInRepertoire, column: "error_message")));

        Assert.Equal("error_message", rejected.Constraint);
    }

    [Fact]
    public void OtherExceptionsAreNotDatabaseFailures()
    {
        Assert.False(DatabaseFailures.IsDatabaseFailure(new InvalidOperationException("a bug")));
        Assert.False(DatabaseFailures.IsDatabaseFailure(new OperationCanceledException()));
        Assert.False(DatabaseFailures.IsDatabaseFailure(new TimeoutException("a grain call timed out")));
    }
}
