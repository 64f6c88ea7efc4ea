namespace OptimizationRuns.Grains.Analysis;

/// <summary>
/// How many rows the next page of an export reads, so a page stays near a byte budget whatever the rows hold: a
/// run of short samples streams in pages of thousands, one whose inputs are long documents in pages of a few dozen.
/// Each page's size follows from the average row of the page before (the bytes of its text, plus a fixed cost per row).
/// A page is alive in both processes while the next one is read (and is promoted by the collections it outlives), so
/// the budget is small: 256 KiB pages kept a 1M-sample export within 10 MB of the silo's memory at full speed, where
/// 1 MiB pages cost it 20–50 MB (bench/run-analysis.sh).
/// </summary>
public sealed class ExportPageSize(int budgetBytes = ExportPageSize.DefaultBudgetBytes, int minRows = ExportPageSize.DefaultMinRows, int maxRows = ExportPageSize.DefaultMaxRows)
{
    public const int DefaultBudgetBytes = 256 * 1024;
    public const int DefaultMinRows = 16;
    public const int DefaultMaxRows = 5_000;

    /// <summary>What a row costs beyond its text: the object, its numbers and times, list slots.</summary>
    public const int RowOverheadBytes = 160;

    /// <summary>The first page's size, before anything is known of the rows.</summary>
    public const int FirstRows = 500;

    /// <summary>Rows to read for the next page.</summary>
    public int Next { get; private set; } = Math.Clamp(FirstRows, minRows, maxRows);

    /// <summary>Takes the page just read (<paramref name="rows"/> rows holding <paramref name="textBytes"/> bytes of text) into account.</summary>
    public void Observe(int rows, long textBytes)
    {
        if (rows <= 0)
        {
            return;
        }

        var bytesPerRow = RowOverheadBytes + (double)textBytes / rows;
        Next = (int)Math.Clamp(budgetBytes / bytesPerRow, minRows, maxRows);
    }
}
