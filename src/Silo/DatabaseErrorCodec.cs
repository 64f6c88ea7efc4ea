using System.Buffers;
using Microsoft.Extensions.DependencyInjection;
using OptimizationRuns.Grains.Data;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.Serializers;
using Orleans.Serialization.WireProtocol;

namespace OptimizationRuns.Silo;

/// <summary>
/// The serializer's safety net under <see cref="StorageFailureFilter"/>: a database driver exception that reaches
/// the wire by a path no call filter sees (a grain whose activation failed on the database, a rejected message, an
/// exception nested in another) is written as the grains' own error for it
/// (<see cref="DatabaseFailures.ToGrainError"/>). Orleans has no codec for the driver's types, so without this the
/// whole response would fail as <c>CodecNotFoundException</c> and the caller would see a 500.
/// </summary>
/// <remarks>Only ever writes: what it writes is read back by the grain error's own generated codec.</remarks>
public sealed partial class DatabaseErrorCodec(IServiceProvider services, ILogger<DatabaseErrorCodec> logger)
    : IGeneralizedCodec, IGeneralizedCopier
{
    private ICodecProvider? _codecs;

    // Resolved late: the codec provider is what asks for this codec.
    private ICodecProvider Codecs => _codecs ??= services.GetRequiredService<ICodecProvider>();

    /// <summary>Exceptions of the PostgreSQL driver (Npgsql), which Orleans cannot serialize.</summary>
    public bool IsSupportedType(Type type) =>
        typeof(Exception).IsAssignableFrom(type)
        && type.Namespace is { } ns && (ns == "Npgsql" || ns.StartsWith("Npgsql.", StringComparison.Ordinal));

    /// <inheritdoc />
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, Type? expectedType, object? value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (value is null)
        {
            ReferenceCodec.WriteNullReference(ref writer, fieldIdDelta);
            return;
        }

        var error = Convert((Exception)value);
        Codecs.GetCodec(error.GetType()).WriteField(ref writer, fieldIdDelta, expectedType, error);
    }

    /// <inheritdoc />
    public object? ReadValue<TInput>(ref Reader<TInput> reader, Field field) =>
        throw new NotSupportedException("Database exceptions travel as the grains' own errors; none is read as a driver exception.");

    /// <summary>Copies (within a silo, e.g. a grain method's result) become the grain error too.</summary>
    public object? DeepCopy(object? input, CopyContext context) => input is Exception exception ? Convert(exception) : input;

    private Exception Convert(Exception exception)
    {
        var error = DatabaseFailures.ToGrainError(exception);
        LogConverted(logger, exception, error.GetType().Name);
        return error;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A database exception reached the grain boundary outside any grain call filter; sent as {GrainError}")]
    private static partial void LogConverted(ILogger logger, Exception exception, string grainError);
}
