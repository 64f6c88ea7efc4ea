using OptimizationRuns.Gateway.Dashboard.Components;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>The word diff the sample explorer and the comparison show predictions with.</summary>
public sealed class WordDiffTests
{
    private static string Render(string? before, string? after) => string.Concat(WordDiff.Compare(before, after).Select(p => p.Kind switch
    {
        WordDiff.Kind.Removed => $"[-{p.Text}]",
        WordDiff.Kind.Added => $"[+{p.Text}]",
        _ => p.Text,
    }));

    [Fact]
    public void AChangedWordIsShownRemovedThenAdded() =>
        Assert.Equal("the [-cat ][+dog ]sat", Render("the cat sat", "the dog sat"));

    [Fact]
    public void EqualTextsHaveNoChangesAndEmptySidesAreAllAddedOrRemoved()
    {
        Assert.Equal("same words", Render("same words", "same words"));
        Assert.Equal("[+new text]", Render(null, "new text"));
        Assert.Equal("[-old text]", Render("old text", ""));
    }

    [Fact]
    public void JoiningEitherSideGivesItsTextBack()
    {
        const string before = "{\"answer\": \"Someone 3\"}";
        const string after = "{\"answer\": \"Author 3\"}";
        var parts = WordDiff.Compare(before, after);
        Assert.Equal(before, string.Concat(parts.Where(p => p.Kind != WordDiff.Kind.Added).Select(p => p.Text)));
        Assert.Equal(after, string.Concat(parts.Where(p => p.Kind != WordDiff.Kind.Removed).Select(p => p.Text)));
    }
}
