using System.Diagnostics;
using System.Text;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>A silo or gateway binary of this build, run as a real process with its own environment.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The build output of <paramref name="project"/> (Silo or Gateway) in this test build's configuration.</summary>
    public static string Binary(string project)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory); // tests/OptimizationRuns.Tests/bin/<Configuration>/net10.0/
        var configuration = testBin.Parent!.Name;
        var root = testBin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "src", project, "bin", configuration, "net10.0", $"OptimizationRuns.{project}.dll");
    }

    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet", [Binary(project)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>A TCP port nobody listens on right now and no other process of this test run was given.</summary>
    public static int FreePort() => ListenPorts.Next();

    /// <summary>Asks the process to stop as an operator would (SIGTERM) and waits for it to exit.</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
        {
            await kill!.WaitForExitAsync();
        }

        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
