using System.Text.Json;
using Xunit;

namespace OptimizationRuns.Tests.Operations;

/// <summary>
/// The runtime settings the silo and gateway ship with (src/Runtime.props): measured to cut their CPU by a fifth to a
/// third on a 2-core machine (BENCHMARKS.md). A build that loses them is slower without a failing test otherwise.
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Theory]
    [InlineData("OptimizationRuns.Silo")]
    [InlineData("OptimizationRuns.Gateway")]
    public void TheThreadPoolDoesNotSpinAndGarbageIsCollectedPerWorkstation(string program)
    {
        var settings = ConfigProperties(program);

        Assert.Equal(0, settings.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.False(settings.TryGetProperty("System.GC.Server", out var server) && server.GetBoolean(), $"{program} collects with server GC");
    }

    // The programs' runtimeconfig.json files are copied beside the tests with the projects they reference.
    private static JsonElement ConfigProperties(string program)
    {
        var path = Path.Combine(AppContext.BaseDirectory, $"{program}.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }
}
