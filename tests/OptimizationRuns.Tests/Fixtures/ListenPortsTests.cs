using System.Net;
using System.Net.Sockets;
using Xunit;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>The ports test processes listen on cannot be taken by the OS for an outgoing connection meanwhile.</summary>
public sealed class ListenPortsTests
{
    // The startup-order fault test failed once with AddressInUseException: its silo waited 7 s for its database
    // before binding a port from the ephemeral range, and an outgoing connection had taken it by then.
    [Fact]
    public void PortsForTestProcessesLieBelowTheEphemeralRangeAreFreeAndNeverRepeat()
    {
        var low = ListenPorts.EphemeralStart;
        var given = Enumerable.Range(0, 200).Select(_ => ServiceProcess.FreePort()).ToList();

        Assert.All(given, port => Assert.InRange(port, 1024, low - 1));
        Assert.Equal(given.Count, given.Distinct().Count());
        foreach (var port in given.Take(20))
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start(); // free when handed out: a process can bind it
        }
    }

    [Fact]
    public void APortSomeoneListensOnIsNotHandedOut()
    {
        // Occupies the next ports in turn: each must be skipped, not handed out.
        var held = new List<TcpListener>();
        try
        {
            var probe = ServiceProcess.FreePort();
            for (var port = probe + 1; held.Count < 5 && port < ListenPorts.EphemeralStart; port++)
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    listener.Start();
                    held.Add(listener);
                }
                catch (SocketException)
                {
                    listener.Dispose();
                }
            }

            var next = ServiceProcess.FreePort();

            Assert.DoesNotContain(next, held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port));
        }
        finally
        {
            held.ForEach(l => l.Dispose());
        }
    }
}
