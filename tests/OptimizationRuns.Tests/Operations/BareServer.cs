using Npgsql;
using OptimizationRuns.Tests.Faults;
using OptimizationRuns.Tests.Fixtures;

namespace OptimizationRuns.Tests.Operations;

/// <summary>
/// A new, empty PostgreSQL server, as a user's own server is before we touch it: no roles of ours, no database of ours,
/// only a superuser <c>postgres</c> with a password, reached over TCP on 127.0.0.1. Started from the same binaries as
/// <see cref="PostgresServer"/>; <see cref="DisposeAsync"/> stops it and deletes its files.
/// </summary>
public sealed class BareServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _root;

    private BareServer(string bin, string root, int port, string password)
    {
        _bin = bin;
        _root = root;
        Port = port;
        SuperuserConnectionString = $"Host=127.0.0.1;Port={port};Database=postgres;Username=postgres;Password={password};Pooling=false";
    }

    public int Port { get; }

    /// <summary>The superuser's connection to the <c>postgres</c> database.</summary>
    public string SuperuserConnectionString { get; }

    /// <summary>The directory holding pg_dump, pg_restore and psql.</summary>
    public string BinDirectory => _bin;

    public static async Task<BareServer> StartNewAsync()
    {
        var bin = PostgresServer.BinDirectory();
        var root = Path.Combine(await PostgresServer.ReachableTempAsync(), $"optruns-bare-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var password = Guid.NewGuid().ToString("N");
        var passwordFile = Path.Combine(root, "superuser-password");
        await File.WriteAllTextAsync(passwordFile, password);
        if (Environment.IsPrivilegedProcess)
        {
            await PostgresServer.RunAsync("chown", ["-R", "postgres:postgres", root], asServerUser: false);
        }

        var server = new BareServer(bin, root, ServiceProcess.FreePort(), password);
        var data = Path.Combine(root, "data");
        await PostgresServer.RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--pwfile", passwordFile,
            "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
        await PostgresServer.RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {server.Port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]);
        return server;
    }

    public async Task<NpgsqlConnection> OpenSuperuserAsync(string database = "postgres")
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(SuperuserConnectionString) { Database = database }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        await PostgresServer.RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "immediate", "-w", "stop"],
            throwOnFailure: false);
        Directory.Delete(_root, recursive: true);
    }
}
