using System.Security.Cryptography;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// Run ids are scoped to their project. A client that names its run (to make the create idempotent) gives a key;
/// the run's id is derived from the project and that key, so the same key in two projects names two runs and a
/// create never learns whether another project used it.
/// </summary>
public static class RunIds
{
    /// <summary>The id of the run that <paramref name="clientKey"/> names in <paramref name="projectId"/> (a UUIDv8 of their SHA-256).</summary>
    public static Guid ForClientKey(Guid projectId, Guid clientKey)
    {
        Span<byte> input = stackalloc byte[32];
        projectId.TryWriteBytes(input[..16], bigEndian: true, out _);
        clientKey.TryWriteBytes(input[16..], bigEndian: true, out _);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true);
    }
}
