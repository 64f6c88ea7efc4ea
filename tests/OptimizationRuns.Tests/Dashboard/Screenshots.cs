using Microsoft.Playwright;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>
/// Screenshots of the main pages. Every run writes them under .data/screenshots; with OPTRUNS_UPDATE_SCREENSHOTS=1
/// they replace the ones in docs/screenshots that the README shows.
/// </summary>
public static class Screenshots
{
    private static string Root => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static async Task SaveAsync(IPage page, string name)
    {
        var shot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = false });
        var scratch = Path.Combine(Root, ".data", "screenshots");
        Directory.CreateDirectory(scratch);
        await File.WriteAllBytesAsync(Path.Combine(scratch, $"{name}.png"), shot);
        if (Environment.GetEnvironmentVariable("OPTRUNS_UPDATE_SCREENSHOTS") == "1")
        {
            var docs = Path.Combine(Root, "docs", "screenshots");
            Directory.CreateDirectory(docs);
            await File.WriteAllBytesAsync(Path.Combine(docs, $"{name}.png"), shot);
        }
    }
}
