using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// Opaque page cursors: base64url of the last row's sort key and id, tagged with what they page and sealed with a
/// checksum, so an edited or foreign cursor is refused (400) rather than read as some other position.
/// </summary>
public static class Cursors
{
    private const byte Version = 1;
    private const byte RunsKind = 1;
    private const byte SamplesKind = 2;
    private const byte TraceSamplesKind = 3;
    private const int ChecksumLength = 4;

    public static string Encode(RunSort sort, RunPosition position)
    {
        var body = new List<byte> { Version, RunsKind, (byte)sort };
        if (sort == RunSort.CreatedAt)
        {
            Append(body, position.CreatedAt!.Value.UtcTicks);
        }
        else
        {
            body.Add(position.Score is null ? (byte)0 : (byte)1);
            if (position.Score is { } score)
            {
                foreach (var part in decimal.GetBits(score))
                {
                    Append(body, part);
                }
            }
        }

        body.AddRange(position.Id.ToByteArray());
        return Seal(body);
    }

    public static bool TryDecode(string cursor, RunSort sort, out RunPosition? position)
    {
        position = null;
        if (!TryOpen(cursor, RunsKind, out var body) || body.Length < 1 || body[0] != (byte)sort)
        {
            return false;
        }

        var rest = body[1..];
        DateTimeOffset? createdAt = null;
        decimal? score = null;
        if (sort == RunSort.CreatedAt)
        {
            if (rest.Length != 8 + 16)
            {
                return false;
            }

            var ticks = BinaryPrimitives.ReadInt64LittleEndian(rest);
            if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
            {
                return false;
            }

            createdAt = new DateTimeOffset(ticks, TimeSpan.Zero);
            rest = rest[8..];
        }
        else
        {
            if (rest.Length < 1 || rest[0] > 1 || rest.Length != 1 + (rest[0] == 1 ? 16 : 0) + 16)
            {
                return false;
            }

            if (rest[0] == 1)
            {
                var bits = new int[4];
                for (var i = 0; i < 4; i++)
                {
                    bits[i] = BinaryPrimitives.ReadInt32LittleEndian(rest[(1 + 4 * i)..]);
                }

                try
                {
                    score = new decimal(bits);
                }
                catch (ArgumentException)
                {
                    return false;
                }

                rest = rest[17..];
            }
            else
            {
                rest = rest[1..];
            }
        }

        position = new RunPosition(new Guid(rest), createdAt, score);
        return true;
    }

    public static string Encode(SamplePosition position) => EncodeSample(SamplesKind, position);

    public static bool TryDecode(string cursor, out SamplePosition? position) => TryDecodeSample(cursor, SamplesKind, out position);

    public static string EncodeTrace(SamplePosition position) => EncodeSample(TraceSamplesKind, position);

    public static bool TryDecodeTrace(string cursor, out SamplePosition? position) => TryDecodeSample(cursor, TraceSamplesKind, out position);

    private static string EncodeSample(byte kind, SamplePosition position)
    {
        var body = new List<byte> { Version, kind };
        body.AddRange(position.RunId.ToByteArray());
        Append(body, position.Iteration);
        Append(body, position.SampleIndex);
        return Seal(body);
    }

    private static bool TryDecodeSample(string cursor, byte kind, out SamplePosition? position)
    {
        position = null;
        if (!TryOpen(cursor, kind, out var body) || body.Length != 16 + 4 + 4)
        {
            return false;
        }

        position = new SamplePosition(new Guid(body[..16]),
            BinaryPrimitives.ReadInt32LittleEndian(body[16..]), BinaryPrimitives.ReadInt32LittleEndian(body[20..]));
        return true;
    }

    private static void Append(List<byte> body, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        body.AddRange(bytes);
    }

    private static void Append(List<byte> body, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        body.AddRange(bytes);
    }

    private static string Seal(List<byte> body)
    {
        var bytes = body.ToArray();
        return Base64Url.EncodeToString([.. bytes, .. SHA256.HashData(bytes).AsSpan(0, ChecksumLength)]);
    }

    /// <summary>The cursor's body after its version and kind, if the cursor is intact and of <paramref name="kind"/>.</summary>
    private static bool TryOpen(string cursor, byte kind, out byte[] body)
    {
        body = [];
        if (cursor.Length is 0 or > 200 || !Base64Url.IsValid(cursor))
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return false;
        }

        if (bytes.Length < 2 + ChecksumLength)
        {
            return false;
        }

        var content = bytes.AsSpan(0, bytes.Length - ChecksumLength);
        var checksum = bytes.AsSpan(bytes.Length - ChecksumLength);
        if (!SHA256.HashData(content).AsSpan(0, ChecksumLength).SequenceEqual(checksum) || content[0] != Version || content[1] != kind)
        {
            return false;
        }

        body = content[2..].ToArray();
        return true;
    }
}
