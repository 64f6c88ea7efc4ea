using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
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
}
