using System.Security.Cryptography;
using System.Text;

namespace OptimizationRuns.Grains.Projects;

/// <summary>How API keys look and how they are hashed, in one place for the grain and the gateway.</summary>
public static class ApiKeys
{
    /// <summary>Every project key starts with this, so a leaked key is recognisable in logs and scanners.</summary>
    public const string Marker = "ork_";

    /// <summary>A new key: the marker and 192 random bits, base64url.</summary>
    public static string Generate() => Marker + Base64Url(RandomNumberGenerator.GetBytes(24));

    /// <summary>The part shown to people to tell keys apart.</summary>
    public static string PrefixOf(string key) => key[..Math.Min(key.Length, Marker.Length + 6)];

    /// <summary>SHA-256 of the key: keys are random and long, so a plain hash cannot be guessed back.</summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
