using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// A PostgreSQL server of its own for a fault test to stop and start: initialised in a temporary folder from the
/// binaries scripts/lib.sh uses, listening on 127.0.0.1 on a free port, with the owner and service roles and the
/// migrated schema as scripts/test prepares them. As root it runs as the <c>postgres</c> OS user, which the server
/// requires. <see cref="DisposeAsync"/> stops it and deletes its files.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Database = "optruns";
    private readonly string _bin;
    private readonly string _root;
    private bool _running;

    private PostgresServer(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        Port = port;
        var owner = Guid.NewGuid().ToString("N");
        var service = Guid.NewGuid().ToString("N");
        OwnerPassword = owner;
        ServicePassword = service;
        OwnerConnectionString = $"Host=127.0.0.1;Port={port};Database={Database};Username=optruns_owner;Password={owner};Pooling=false";
        ServiceConnectionString = $"Host=127.0.0.1;Port={port};Database={Database};Username=optruns_service;Password={service}";
    }

    public int Port { get; }

    /// <summary>The schema owner's connection (past RLS), unpooled: for checking what was stored.</summary>
    public string OwnerConnectionString { get; }

    /// <summary>The service role's connection, what a silo connects as.</summary>
    public string ServiceConnectionString { get; }

    private string OwnerPassword { get; }

    private string ServicePassword { get; }

    private string DataDirectory => Path.Combine(_root, "data");

    /// <summary>Initialises, starts and migrates a new server.</summary>
    public static async Task<PostgresServer> StartNewAsync()
    {
        var bin = BinDirectory();
        var root = Path.Combine(await ReachableTempAsync(), $"optruns-faults-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", ["postgres:postgres", root], asServerUser: false);
        }

        var server = new PostgresServer(bin, root, ServiceProcess.FreePort());
        try
        {
            await RunAsync(Path.Combine(bin, "initdb"), ["-D", server.DataDirectory, "-U", "postgres", "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
            await server.StartAsync();
            await server.CreateRolesAsync();
            await new Migrator(server.OwnerConnectionString, MigrationCatalog.Load(), NullLogger.Instance).UpAsync(CancellationToken.None);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        // fsync off: only the process stops in these tests, never the machine, so the page cache keeps every commit.
        await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off", "start"]);
        _running = true;
    }

    /// <summary>Stops the server as an operator does (<c>pg_ctl stop -m fast</c>): sessions are ended, then it is gone.</summary>
    public async Task StopAsync()
    {
        await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"]);
        _running = false;
    }

    /// <summary>
    /// Freezes the server (SIGSTOP to the postmaster and every backend): connections stay open and nothing answers,
    /// as when its host stalls. <see cref="ResumeAsync"/> lets it go on.
    /// </summary>
    public Task PauseAsync() => SignalAllAsync("-STOP");

    /// <summary>Lets a paused server go on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAllAsync("-CONT");

    /// <summary>The server's log so far, for failure messages.</summary>
    public string Log => File.Exists(Path.Combine(_root, "server.log")) ? File.ReadAllText(Path.Combine(_root, "server.log")) : "";

    public async Task<NpgsqlConnection> OpenOwnerAsync()
    {
        var connection = new NpgsqlConnection(OwnerConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_running)
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }

        Directory.Delete(_root, recursive: true);
    }

    private async Task SignalAllAsync(string signal)
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First());
        var processes = new List<int> { postmaster };
        foreach (var stat in Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "stat")))
        {
            try
            {
                // "pid (comm) state ppid …": the command may hold spaces, so the fields are read after its ')'.
                var text = File.ReadAllText(stat);
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == postmaster)
                {
                    processes.Add(int.Parse(text[..text.IndexOf(' ')]));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // Not a process, or one that ended meanwhile.
            }
        }

        // A backend may end between the listing and the signal; kill still signals the others.
        await RunAsync("kill", [signal, .. processes.Select(p => p.ToString())], asServerUser: false, throwOnFailure: false);
    }

    private async Task CreateRolesAsync()
    {
        // The superuser over the Unix socket (trust), as scripts/lib.sh does with psql.
        await using var connection = new NpgsqlConnection($"Host={_root};Port={Port};Username=postgres;Database=postgres;Pooling=false");
        await connection.OpenAsync();
        await connection.ExecuteAsync($"CREATE ROLE optruns_owner LOGIN CREATEDB PASSWORD '{OwnerPassword}'");
        await connection.ExecuteAsync($"CREATE ROLE optruns_service LOGIN PASSWORD '{ServicePassword}'");
        await connection.ExecuteAsync($"CREATE DATABASE {Database} OWNER optruns_owner");
    }

    // The newest /usr/lib/postgresql/<version>/bin, else wherever pg_ctl on the PATH lives (scripts/lib.sh pg_bindir).
    internal static string BinDirectory()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderBy(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .ToList()
            : [];
        if (versions.Count > 0)
        {
            return Path.Combine(versions[^1], "bin");
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "pg_ctl")) && File.Exists(Path.Combine(d, "initdb")));
        return onPath ?? throw new InvalidOperationException("PostgreSQL server binaries (initdb, pg_ctl) not found; scripts/test installs them.");
    }

    // As root the server's user must be able to reach the folder; a private TMPDIR falls back to /tmp.
    internal static async Task<string> ReachableTempAsync()
    {
        var temp = Path.GetTempPath();
        if (!Environment.IsPrivilegedProcess)
        {
            return temp;
        }

        foreach (var candidate in new[] { temp, "/tmp", "/var/tmp" })
        {
            if (Directory.Exists(candidate) && await RunAsync("test", ["-w", candidate, "-a", "-x", candidate], throwOnFailure: false) == 0)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No temporary folder the postgres user can write to.");
    }

    internal static async Task<int> RunAsync(string file, IReadOnlyList<string> arguments, bool asServerUser = true, bool throwOnFailure = true)
    {
        var info = asServerUser && Environment.IsPrivilegedProcess
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. arguments])
            : new ProcessStartInfo(file, arguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && throwOnFailure)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        }

        return process.ExitCode;
    }
}
