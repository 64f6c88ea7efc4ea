using System.Net;
using System.Net.Sockets;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>
/// Ports for the processes a test starts. A port from the OS's ephemeral range (what binding port 0 gives) can be
/// taken as the source port of any outgoing connection before a slow process binds it — a silo that waits seconds
/// for its database did fail that way — so these come from below that range, each checked free by binding, and
/// none twice in one test run.
/// </summary>
public static class ListenPorts
{
    /// <summary>Lowest port handed out: above the well-known and common service ports.</summary>
    private const int First = 20000;

    private static readonly object Gate = new();

    /// <summary>The lowest port of the range the OS takes outgoing connections' source ports from.</summary>
    public static int EphemeralStart { get; } = ReadEphemeralStart();

    // Starts at a random place so that test runs in parallel checkouts rarely try the same ports. After
    // EphemeralStart: static initialisers run in the order they are written.
    private static int _next = First + Random.Shared.Next(Math.Max(1, EphemeralStart - First));

    /// <summary>A loopback TCP port that nobody listens on now, outside the ephemeral range, not handed out before.</summary>
    public static int Next()
    {
        var span = EphemeralStart - First;
        if (span <= 0)
        {
            return BindAny(); // an OS whose ephemeral range starts low: nothing below it to choose from
        }

        lock (Gate)
        {
            for (var tried = 0; tried < span; tried++)
            {
                var port = _next;
                _next = First + (_next - First + 1) % span;
                if (IsFree(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"no free port in {First}–{EphemeralStart - 1}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int BindAny()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int ReadEphemeralStart()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        var first = File.Exists(path) ? File.ReadAllText(path).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() : null;
        return int.TryParse(first, out var low) ? low : 32768; // Linux's default
    }
}
