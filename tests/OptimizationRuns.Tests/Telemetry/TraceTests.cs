using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using Xunit;

namespace OptimizationRuns.Tests.Telemetry;

/// <summary>One connected trace per request: HTTP server span → Orleans grain call → our spans → Npgsql commands.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TraceTests(GatewayFixture fixture) : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private GatewayFactory _gateway = null!;

    public Task InitializeAsync()
    {
        _gateway = new GatewayFactory(fixture.Client,
            new Dictionary<string, string?> { ["OPTRUNS_ADMIN_KEY"] = GatewayFixture.AdminKey, ["Telemetry:Tracing"] = "true" },
            services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddSource("Npgsql").AddInMemoryExporter(_spans)));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<HttpClient> ClientAsync()
    {
        var (_, _, key) = await fixture.NewProjectAsync();
        var client = _gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Key);
        return client;
    }

    // Spans are exported when they end, some after the response (the server span itself, background
    // bookkeeping): wait until the trace has what the test needs and has stopped growing.
    private async Task<List<Activity>> TraceAsync(string traceId, Func<List<Activity>, bool> complete)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var previous = -1;
        while (true)
        {
            List<Activity> trace;
            lock (_spans)
            {
                trace = _spans.Where(s => s.TraceId.ToHexString() == traceId).ToList();
            }

            var done = complete(trace) && trace.Any(s => s.Source.Name == "Microsoft.AspNetCore") && trace.Count == previous;
            if (done || DateTime.UtcNow > deadline)
            {
                return trace;
            }

            previous = trace.Count;
            await Task.Delay(300);
        }
    }

    private static Activity Parent(List<Activity> trace, Activity span) => trace.Single(s => s.SpanId == span.ParentSpanId);

    /// <summary>The chain of span source names from <paramref name="span"/> up to the trace's root.</summary>
    private static List<string> Ancestry(List<Activity> trace, Activity span)
    {
        var chain = new List<string> { span.Source.Name };
        while (span.ParentSpanId != default && trace.Any(s => s.SpanId == span.ParentSpanId))
        {
            span = Parent(trace, span);
            chain.Add(span.Source.Name);
        }

        return chain;
    }

    private static bool HasSql(List<Activity> trace) => trace.Any(s => s.Source.Name == "Npgsql");

    [Fact]
    public async Task IngestingABatchIsOneTraceFromHttpThroughTheGrainToSql()
    {
        using var client = await ClientAsync();
        var runId = await client.CreateRunAsync();

        var response = await client.PostAsJsonAsync($"/api/optimization/runs/{runId}/samples", HttpJson.Samples(2, 0, 7));
        await response.JsonAsync(HttpStatusCode.OK);

        var traceId = Assert.Single(response.Headers.GetValues("X-Trace-Id"));
        // Spans arrive as they end: wait for the commit's own statement, not just for some SQL of the trace.
        var trace = await TraceAsync(traceId, t => t.FirstOrDefault(s => s.OperationName == "run.commit") is { } committed
            && t.Any(s => s.Source.Name == "Npgsql" && s.ParentSpanId == committed.SpanId));
        var http = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(default, http.ParentSpanId);

        var record = Assert.Single(trace, s => s.OperationName == "run.record_samples");
        Assert.Equal(runId.ToString(), record.GetTagItem("optruns.run_id")?.ToString());
        Assert.NotNull(record.GetTagItem("optruns.project_id"));
        Assert.Equal(7, record.GetTagItem("optruns.batch.size"));
        Assert.Equal(7, record.GetTagItem("optruns.batch.inserted"));
        Assert.Equal(0, record.GetTagItem("optruns.batch.duplicates"));

        var commit = Assert.Single(trace, s => s.OperationName == "run.commit");
        Assert.Equal(7, commit.GetTagItem("optruns.commit.samples"));
        Assert.NotNull(commit.GetTagItem("optruns.commit.wait_ms"));
        // The commit's statement (one batch: project, samples, totals, the run row) is its child. (Its status
        // bookkeeping wrote a grain-state checkpoint under it too, until the run row carried the heartbeat.)
        var sql = trace.Where(s => s.Source.Name == "Npgsql").ToList();
        var underCommit = sql.Where(s => s.ParentSpanId == commit.SpanId).ToList();
        Assert.NotEmpty(underCommit);
        Assert.Contains(underCommit, s => s.TagObjects.Any(t => t.Value?.ToString()?.Contains("INSERT INTO optimization_samples") == true));
        Assert.All(sql, s => Assert.Equal("Microsoft.AspNetCore", Ancestry(trace, s)[^1]));

        var chain = Ancestry(trace, sql.First(s => s.ParentSpanId == commit.SpanId));
        Assert.Equal("Npgsql", chain[0]);
        Assert.Equal("OptimizationRuns", chain[1]);
        Assert.Contains(chain, c => c.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
        Assert.Equal("Microsoft.AspNetCore", chain[^1]);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("read")]
    public async Task CreatingAndReadingARunAreTracesThatReachTheDatabase(string operation)
    {
        using var client = await ClientAsync();
        var runId = await client.CreateRunAsync();

        var response = operation == "create"
            ? await client.PostRawAsync("/api/optimization/runs", HttpJson.ExampleRunBody)
            : await client.GetAsync($"/api/optimization/runs/{runId}/iterations");
        Assert.True(response.IsSuccessStatusCode);

        var traceId = Assert.Single(response.Headers.GetValues("X-Trace-Id"));
        var trace = await TraceAsync(traceId, HasSql);
        var sql = trace.First(s => s.Source.Name == "Npgsql");
        var chain = Ancestry(trace, sql);
        Assert.Contains(chain, c => c.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
        Assert.Equal("Microsoft.AspNetCore", chain[^1]);
    }

    [Fact]
    public async Task AnIncomingTraceparentBecomesTheParent()
    {
        using var client = await ClientAsync();
        var runId = await client.CreateRunAsync();
        var callerTrace = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/optimization/runs/{runId}/samples")
        {
            Content = JsonContent.Create(HttpJson.Samples(1, 0, 3)),
        };
        request.Headers.Add("traceparent", $"00-{callerTrace.ToHexString()}-{callerSpan.ToHexString()}-01");

        var response = await client.SendAsync(request);
        await response.JsonAsync(HttpStatusCode.OK);

        Assert.Equal(callerTrace.ToHexString(), Assert.Single(response.Headers.GetValues("X-Trace-Id")));
        var trace = await TraceAsync(callerTrace.ToHexString(), HasSql);
        var http = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(callerSpan, http.ParentSpanId);
        Assert.True(HasSql(trace));
    }
}
