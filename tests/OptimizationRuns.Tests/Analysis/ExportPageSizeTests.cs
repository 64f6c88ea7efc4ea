using OptimizationRuns.Grains.Analysis;
using Xunit;

namespace OptimizationRuns.Tests.Analysis;

/// <summary>Export pages follow the size of the rows read so far, within bounds.</summary>
public sealed class ExportPageSizeTests
{
    [Fact]
    public void TheFirstPageHasTheStartingSize() => Assert.Equal(ExportPageSize.FirstRows, new ExportPageSize().Next);

    [Fact]
    public void PagesOfShortRowsGrowAndPagesOfLongRowsShrinkToTheBudget()
    {
        var size = new ExportPageSize(budgetBytes: 1_000_000, minRows: 10, maxRows: 5_000);

        // 500 rows of 840 bytes of text: 160 + 840 = 1,000 bytes a row → 1,000 rows.
        size.Observe(500, 500 * 840);
        Assert.Equal(1_000, size.Next);
        // Rows of 200,000 bytes: 200,160 bytes a row → 4 rows, held up at the minimum.
        size.Observe(1_000, 1_000 * 200_000L);
        Assert.Equal(10, size.Next);
        // Empty rows: 160 bytes a row → 6,250, held down at the maximum.
        size.Observe(10, 0);
        Assert.Equal(5_000, size.Next);
    }

    [Fact]
    public void AnEmptyPageChangesNothing()
    {
        var size = new ExportPageSize(budgetBytes: 1_000_000, minRows: 10, maxRows: 5_000);
        size.Observe(500, 500 * 840);

        size.Observe(0, 0);

        Assert.Equal(1_000, size.Next);
    }
}
