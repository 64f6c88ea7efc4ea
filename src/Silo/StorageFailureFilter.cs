using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Errors;
using Orleans.Serialization.Invocation;
using Orleans.Serialization.Serializers;

namespace OptimizationRuns.Silo;

/// <summary>
/// Every grain call's last check on its error before it crosses the grain boundary. A database failure (from our
/// stores, or from Orleans' ADO.NET grain storage and reminders, which wrap the driver's exception in an
/// <see cref="OrleansException"/>) leaves as the grains' own <see cref="StorageUnavailableException"/> (the gateway
/// answers 503 with Retry-After) or <see cref="WriteRejectedException"/> (422), never as the driver's exception.
/// Any other exception that Orleans could not serialize leaves as an <see cref="InternalErrorException"/> naming it,
/// so the caller's 500 says what failed instead of <c>CodecNotFoundException</c>.
/// </summary>
/// <remarks>
/// <see cref="DatabaseErrorCodec"/> covers what no call filter sees (activation failures, rejections).
/// </remarks>
public sealed partial class StorageFailureFilter(ICodecProvider codecs, ILogger<StorageFailureFilter> logger) : IIncomingGrainCallFilter
{
    // An outage fails every caller at once: one warning with the original exception per grain method in this
    // window, the rest at Debug.
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<(Type Grain, string Method), long> _lastWarned = new();

    /// <inheritdoc />
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception exception)
        {
            if (Translate(context, exception) is { } error)
            {
                throw error;
            }

            throw;
        }

        // IAsyncEnumerable grain methods answer each MoveNext through a grain extension, which reports a failed
        // enumerator as a result (status Error, the exception as its value) rather than by throwing.
        if (context.Result is ValueTuple<EnumerationResult, object> { Item1: EnumerationResult.Error, Item2: Exception failed }
            && Translate(context, failed) is { } translated)
        {
            // The same result type the caller's enumerator expects, with the error replaced.
            context.Response = Response.FromResult<(EnumerationResult, object?)>((EnumerationResult.Error, translated));
        }
    }

    /// <summary>The exception to send instead of <paramref name="exception"/>; null when it may cross as it is.</summary>
    private Exception? Translate(IIncomingGrainCallContext context, Exception exception)
    {
        if (exception is StorageUnavailableException or WriteRejectedException)
        {
            return null;
        }

        // Already turned into a grain error below us (DatabaseErrorCodec's copy), then wrapped by Orleans.
        if (GrainErrorInside(exception) is { } inner)
        {
            return inner;
        }

        if (DatabaseFailures.IsDatabaseFailure(exception))
        {
            // The driver's own exception describes the failure; a wrapper's message repeats its whole stack trace.
            var error = DatabaseFailures.ToGrainError(DriverCause(exception) ?? exception);
            Log(context, exception, error);
            return error;
        }

        if (IsSerializable(exception))
        {
            return null;
        }

        var type = exception.GetType().FullName ?? exception.GetType().Name;
        LogUnserializable(logger, exception, GrainName(context), context.MethodName, type);
        return new InternalErrorException(type, exception.Message);
    }

    private static Exception? GrainErrorInside(Exception exception)
    {
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is StorageUnavailableException or WriteRejectedException)
            {
                return inner;
            }
        }

        return null;
    }

    private static Exception? DriverCause(Exception exception)
    {
        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is NpgsqlException or SocketException)
            {
                return cause;
            }
        }

        return null;
    }

    // Orleans serializes an exception when it has a codec for its type and for every exception inside it.
    private bool IsSerializable(Exception exception) =>
        codecs.TryGetCodec(exception.GetType()) is not null
        && (exception is AggregateException aggregate
            ? aggregate.InnerExceptions.All(IsSerializable)
            : exception.InnerException is not { } inner || IsSerializable(inner));

    private void Log(IIncomingGrainCallContext context, Exception exception, Exception error)
    {
        var grain = context.TargetContext.GrainInstance?.GetType() ?? context.Grain.GetType();
        var now = Stopwatch.GetTimestamp();
        var last = _lastWarned.GetOrAdd((grain, context.MethodName), 0);
        var warn = last == 0 || Stopwatch.GetElapsedTime(last, now) >= WarnEvery;
        if (warn && _lastWarned.TryUpdate((grain, context.MethodName), now, last))
        {
            LogDatabaseFailure(logger, exception, grain.Name, context.MethodName, error.GetType().Name);
        }
        else
        {
            LogDatabaseFailureAgain(logger, grain.Name, context.MethodName, error.GetType().Name, exception.Message);
        }
    }

    private static string GrainName(IIncomingGrainCallContext context) =>
        (context.TargetContext.GrainInstance?.GetType() ?? context.Grain.GetType()).Name;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Grain}.{Method} failed on the database; answered {GrainError} (further ones within 10 s at Debug)")]
    private static partial void LogDatabaseFailure(ILogger logger, Exception exception, string grain, string method, string grainError);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Grain}.{Method} failed on the database; answered {GrainError}: {Reason}")]
    private static partial void LogDatabaseFailureAgain(ILogger logger, string grain, string method, string grainError, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Grain}.{Method} threw {ExceptionType}, which cannot cross the grain boundary; answered InternalErrorException")]
    private static partial void LogUnserializable(ILogger logger, Exception exception, string grain, string method, string exceptionType);
}
