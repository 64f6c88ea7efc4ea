using System.Buffers.Text;
using System.Text;
using OptimizationRuns.Gateway.Contracts;
using OptimizationRuns.Grains.Analysis;
using Xunit;

namespace OptimizationRuns.Tests.Analysis;

/// <summary>Examples cursors carry a position of one run and order, including keys that hold the separator.</summary>
public sealed class ExampleCursorsTests
{
    private static readonly Guid Run = Guid.Parse("3f0c2a9e-6b1d-4c8e-9f7a-2d5b8e1c4a60");

    [Theory]
    [InlineData("-1", long.MinValue, "id:ex:with:colons")]
    [InlineData("0.433013", -4, "inputs:0cc175b9c0f1b6a831c399e269772661")]
    [InlineData("-0.5", 0, "id:ünïcödé ✓")]
    public void APositionRoundTrips(string first, long second, string key)
    {
        var position = new ExamplePosition(decimal.Parse(first, System.Globalization.CultureInfo.InvariantCulture), second, key);

        var cursor = ExampleCursors.Encode(Run, ExampleSort.Flakiest, position);

        Assert.True(ExampleCursors.TryDecode(cursor, Run, ExampleSort.Flakiest, out var decoded));
        Assert.Equal(position, decoded);
        Assert.True(Base64Url.IsValid(cursor));
    }

    [Fact]
    public void ACursorOfAnotherRunOrOrderOrOneThatDoesNotParseIsRefused()
    {
        var cursor = ExampleCursors.Encode(Run, ExampleSort.Hardest, new ExamplePosition(0.5m, -2, "id:a"));

        Assert.False(ExampleCursors.TryDecode(cursor, Guid.NewGuid(), ExampleSort.Hardest, out _));
        Assert.False(ExampleCursors.TryDecode(cursor, Run, ExampleSort.Flakiest, out _));
        Assert.False(ExampleCursors.TryDecode("not base64url!", Run, ExampleSort.Hardest, out _));
        Assert.False(ExampleCursors.TryDecode(Pack($"examples-hardest:{Run:N}:half:-2:id:a"), Run, ExampleSort.Hardest, out _));
        Assert.False(ExampleCursors.TryDecode(Pack($"examples-hardest:{Run:N}:0.5:-2:"), Run, ExampleSort.Hardest, out _));
        Assert.False(ExampleCursors.TryDecode(Base64Url.EncodeToString([0xC3, 0x28]), Run, ExampleSort.Hardest, out _));
        Assert.True(ExampleCursors.TryDecode(Pack($"examples-hardest:{Run:N}:0.5:-2:id:a"), Run, ExampleSort.Hardest, out _));
    }

    private static string Pack(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
}
