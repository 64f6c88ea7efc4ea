using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OptimizationRuns.Gateway;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using Xunit;

namespace OptimizationRuns.Tests.Telemetry;

/// <summary>The write path's metrics move as the work happens, and the gateway serves them for scraping.</summary>
[Collection(GatewayCollection.Name)]
public sealed class MetricsTests(GatewayFixture fixture)
{
    [Fact]
    public async Task IngestEmitsCommittedSamplesCommitSizesAndLatencies()
    {
        var measurements = new ConcurrentDictionary<string, List<double>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "OptimizationRuns")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, value, _, _) => Record(i.Name, value));
        listener.SetMeasurementEventCallback<double>((i, value, _, _) => Record(i.Name, value));
        listener.Start();

        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await (await client.PostAsJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(0, 0, 40))).JsonAsync(HttpStatusCode.OK);
        await (await client.PostAsJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(0, 0, 40))).JsonAsync(HttpStatusCode.OK);

        Assert.True(Sum("optruns.samples.committed") >= 40);
        Assert.True(Sum("optruns.samples.duplicates") >= 40);
        Assert.Contains(Values("optruns.commit.samples"), v => v >= 40);
        Assert.All(Values("optruns.commit.duration"), v => Assert.InRange(v, 0, 30_000));
        Assert.NotEmpty(Values("optruns.commit.wait"));
        Assert.Contains(Values("optruns.samples.buffered"), v => v >= 40);

        void Record(string name, double value) => measurements.GetOrAdd(name, _ => []).Add(value);
        List<double> Values(string name) => measurements.TryGetValue(name, out var list) ? [.. list] : [];
        double Sum(string name) => Values(name).Sum();
    }

    [Fact]
    public async Task RunStatusChangesMoveTheStatusGaugeAndCountTheChange()
    {
        using var recorder = new Recorder("OptimizationRuns", "status");
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        var start = await client.PatchAsync($"/api/optimization/runs/{runId}", JsonContent.Create(new { status = "running" }));
        await start.JsonAsync(HttpStatusCode.OK);

        Assert.True(recorder.Sum("optruns.runs.status_changes", "running") >= 1);
        Assert.True(recorder.Sum("optruns.runs.by_status", "running") >= 1);
        var end = await client.PatchAsync($"/api/optimization/runs/{runId}", JsonContent.Create(new { status = "completed", finalScore = 0.5 }));
        await end.JsonAsync(HttpStatusCode.OK);

        // This run left `running` for `completed`: the gauge moved by one each way (other tests' runs may move it too).
        Assert.Contains(-1, recorder.Values("optruns.runs.by_status", "running"));
        Assert.True(recorder.Sum("optruns.runs.by_status", "completed") >= 1);
        Assert.True(recorder.Sum("optruns.runs.status_changes", "completed") >= 1);
    }

    [Fact]
    public async Task ACallerOverItsRateIsCountedAsARateLimitedRefusal()
    {
        using var recorder = new Recorder(GatewayTelemetry.MeterName, "reason");
        await using var gateway = new GatewayFactory(fixture.Client, new Dictionary<string, string?>
        {
            ["OPTRUNS_ADMIN_KEY"] = GatewayFixture.AdminKey,
            ["Security:RequestsPerSecond"] = "10",
            ["Security:RequestBurst"] = "5",
        });
        var (_, first, key) = await fixture.NewProjectAsync();
        first.Dispose();
        using var busy = gateway.CreateClient();
        busy.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);

        var refused = 0;
        for (var i = 0; i < 20; i++)
        {
            using var answer = await busy.GetAsync("/api/optimization/runs");
            refused += answer.StatusCode == HttpStatusCode.TooManyRequests ? 1 : 0;
        }

        Assert.True(refused > 0, "no request was refused");
        Assert.True(recorder.Sum("optruns.gateway.refusals", "rate_limited") >= refused);
    }

    [Fact]
    public async Task TheGatewayServesPrometheusMetrics()
    {
        var (_, client, _) = await fixture.NewProjectAsync();
        var runId = await client.CreateRunAsync();
        await (await client.PostAsJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(0, 0, 5))).JsonAsync(HttpStatusCode.OK);
        using var scraper = fixture.ClientWithKey(null);

        // The exporter caches a scrape briefly; the first one may predate the requests above.
        string text = "";
        for (var attempt = 0; attempt < 20 && !text.Contains("optruns_samples_committed", StringComparison.Ordinal); attempt++)
        {
            var response = await scraper.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            await Task.Delay(500);
        }

        Assert.Contains("optruns_samples_committed", text);
        Assert.Contains("http_server_request_duration_seconds", text);
    }

    // Measurements of one meter by instrument and the value of one tag ("" without it), from now until disposed.
    private sealed class Recorder : IDisposable
    {
        private readonly ConcurrentDictionary<(string Name, string Tag), ConcurrentQueue<double>> _values = new();
        private readonly MeterListener _listener = new();

        public Recorder(string meter, string tag)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == meter)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i.Name, value, TagOf(tags, tag)));
            _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i.Name, value, TagOf(tags, tag)));
            _listener.Start();
        }

        public List<double> Values(string name, string tag) => _values.TryGetValue((name, tag), out var queue) ? [.. queue] : [];

        public double Sum(string name, string tag) => Values(name, tag).Sum();

        public void Dispose() => _listener.Dispose();

        private void Record(string name, double value, string tag) => _values.GetOrAdd((name, tag), _ => new()).Enqueue(value);

        private static string TagOf(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == key)
                {
                    return tag.Value?.ToString() ?? "";
                }
            }

            return "";
        }
    }
}
