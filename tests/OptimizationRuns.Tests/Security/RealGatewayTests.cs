using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using OptimizationRuns.Tests.Faults;
using OptimizationRuns.Tests.Gateway;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Security;

/// <summary>
/// A real gateway process (Kestrel, its logging and console spans on) in front of a real silo: slow clients are cut
/// off, and after a session that touches every kind of endpoint with good, bad and misplaced keys and a cookie, no
/// secret appears anywhere in what either process wrote.
/// </summary>
[Collection(ProcessFaults.Name)]
public sealed class RealGatewayTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(silos: 1, new Dictionary<string, string>
    {
        ["Security__RequestHeadersTimeout"] = "00:00:02",
        ["Telemetry__Console"] = "true",
        ["Security__EventStreamsPerKey"] = "2",
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task NoKeyAdminKeyOrCookieValueIsEverWrittenToALog()
    {
        const string cookie = "session-secret-9f8e7d6c5b4a";
        using var admin = _cluster.Client(SiloCluster.AdminKey);
        admin.DefaultRequestHeaders.Add("Cookie", $"optruns_session={cookie}");
        var projectId = (await (await admin.PostAsJsonAsync("/api/projects", new { name = "secrets" })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var key = (await (await admin.PostAsJsonAsync($"/api/projects/{projectId}/api-keys", new { name = "k" })).JsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        using var client = _cluster.Client(key);
        client.DefaultRequestHeaders.Add("Cookie", $"optruns_session={cookie}");
        var runId = await client.CreateRunWhenReadyAsync();
        var run = $"/api/optimization/runs/{runId}";
        await (await client.PostJsonAsync($"{run}/samples", HttpJson.Samples(1, 0, 5))).JsonAsync(HttpStatusCode.OK);
        Assert.True((await client.PostJsonAsync($"{run}/iterations", new { iteration = 1, kind = "full", score = 0.5 })).IsSuccessStatusCode);
        foreach (var url in new[] { run, $"{run}/samples", $"{run}/iterations", "/api/optimization/runs", "/api/optimization/analytics" })
        {
            Assert.True((await client.GetAsync(url)).IsSuccessStatusCode, url);
        }

        using (var events = await client.GetAsync($"{run}/events", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/optimization/runs?api_key={key}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/optimization/runs?q={SiloCluster.AdminKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync($"{run}/samples", new { samples = new[] { new { iteration = -1 } } })).StatusCode);
        using var wrong = _cluster.Client(key + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/optimization/runs")).StatusCode);
        using var revoked = _cluster.Client(SiloCluster.AdminKey + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.PostAsJsonAsync("/api/projects", new { name = "x" })).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(1)); // the console exporter and loggers flush

        var logs = _cluster.FullOutput;
        output.WriteLine($"{logs.Length:N0} characters of logs checked");
        Assert.True(logs.Length > 1000, "the processes logged nothing: the check would prove nothing");
        foreach (var (what, secret) in new[] { ("project key", key), ("project key (its secret part)", key[12..]), ("admin key", SiloCluster.AdminKey), ("cookie", cookie) })
        {
            Assert.False(logs.Contains(secret, StringComparison.Ordinal), $"the {what} appears in the logs:\n{Around(logs, secret)}");
        }
    }

    [Fact]
    public async Task AClientThatSendsItsHeadersTooSlowlyIsCutOff()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(_cluster.Address.Host, _cluster.Address.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /health/live HTTP/1.1\r\nHost: x\r\n"));
        var watch = Stopwatch.StartNew();
        var buffer = new byte[4096];
        var read = 0;
        try
        {
            // Kestrel answers 408 or just closes; either way the connection ends.
            while (watch.Elapsed < TimeSpan.FromSeconds(30) && (read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30))) > 0)
            {
            }
        }
        catch (IOException)
        {
        }

        output.WriteLine($"cut off after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(0, read);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AClientThatTricklesItsBodyIsCutOff()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(_cluster.Address.Host, _cluster.Address.Port);
        var stream = socket.GetStream();
        var head = $"POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SiloCluster.AdminKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var watch = Stopwatch.StartNew();
        var answer = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer)) > 0)
                {
                    answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
            }
            catch (IOException)
            {
            }
        });
        try
        {
            // One byte a second: far under the minimum rate once its grace period is over.
            while (!reading.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                await stream.WriteAsync("{"u8.ToArray());
                await Task.WhenAny(reading, Task.Delay(1000));
            }
        }
        catch (IOException)
        {
        }

        await reading.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"cut off after {watch.ElapsedMilliseconds} ms: {answer.ToString().Split('\n')[0]}");
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task AKeyMayWatchOnlySoManyLiveStreamsAtOnce()
    {
        using var client = await _cluster.ProjectClientAsync();
        var runId = await client.CreateRunWhenReadyAsync();
        // A stream's answer starts with its first event: the run has one to replay.
        await (await client.PostJsonAsync($"/api/optimization/runs/{runId}/progress", new { phase = "searching" })).JsonAsync(HttpStatusCode.OK);
        var url = $"/api/optimization/runs/{runId}/events";

        using var one = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        var two = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        using (var three = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            var problem = await three.ProblemAsync(HttpStatusCode.TooManyRequests);
            Assert.Contains("live event streams", problem.GetProperty("detail").GetString());
            Assert.True(three.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        }

        // Other requests of the same key are not streams and pass.
        await (await client.GetAsync($"/api/optimization/runs/{runId}")).JsonAsync(HttpStatusCode.OK);

        // A watcher that leaves frees its place.
        two.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var again = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            if (again.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the stream's place was not freed: {(int)again.StatusCode}");
            await Task.Delay(100);
        }
    }

    private static string Around(string text, string secret)
    {
        var at = text.IndexOf(secret, StringComparison.Ordinal);
        return text[Math.Max(0, at - 300)..Math.Min(text.Length, at + 300)];
    }
}
