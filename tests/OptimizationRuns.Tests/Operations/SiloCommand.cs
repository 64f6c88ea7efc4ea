using System.Diagnostics;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Operations;

/// <summary>One run of a command of this build's silo binary (<c>migrate</c>, <c>prepare-database</c>), as a user types it.</summary>
public sealed record SiloCommand(int ExitCode, string Output, string Errors)
{
    public static async Task<SiloCommand> RunAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet", [ServiceProcess.Binary("Silo"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The test run's own connection strings must not leak into a command pointed at another server.
        info.Environment.Remove("ConnectionStrings__Postgres");
        info.Environment.Remove("ConnectionStrings__PostgresOwner");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new SiloCommand(process.ExitCode, await output, await errors);
    }

    /// <summary>The value of <c>export NAME='…'</c> in the output (what <c>prepare-database</c> prints).</summary>
    public string Exported(string name)
    {
        var prefix = $"export {name}='";
        var line = Output.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line[prefix.Length..].TrimEnd().TrimEnd('\'').Replace("'\\''", "'", StringComparison.Ordinal);
    }

    public override string ToString() => $"exit {ExitCode}\n{Output}\n{Errors}";
}
