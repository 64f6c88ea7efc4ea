using System.Diagnostics;
using System.Net.Http.Headers;
using Npgsql;

namespace OptimizationRuns.Bench.Queries;

/// <summary>
/// The analytics view's refresh at the loaded size, and the reads beside it: rounds of one block of reads while
/// <c>refresh_run_analytics()</c> (the statement the refresh grain runs: <c>REFRESH MATERIALIZED VIEW
/// CONCURRENTLY</c>) runs back to back on another connection, then one block of the same reads with no refresh, so
/// both see the machine's load alike. A read that waited on the refresh shows as a tail in the "during" block
/// only. Then one refresh through the gateway (<c>POST /analytics/refresh</c>), as a user asks for it.
/// </summary>
public sealed class RefreshPass(NpgsqlDataSource owner, HttpClient http, string projectKey, Layer reads, Scenario scenario)
{
    private readonly List<double> _refreshSeconds = [];

    /// <summary>Latencies (ms) per pattern of the reads made while a refresh ran (layer "during") and without ("quiet").</summary>
    public Measurements Reads { get; } = new();

    /// <summary>The refreshes' durations, seconds.</summary>
    public IReadOnlyList<double> RefreshSeconds => _refreshSeconds;

    /// <summary>The refresh through the gateway: milliseconds and the HTTP status.</summary>
    public (double Ms, int Status) HttpRefresh { get; private set; }

    public async Task RunAsync(int readsPerPattern, int rounds, CancellationToken cancellationToken)
    {
        var patterns = Scenario.Patterns.Select(p => p.Name).ToArray();
        // The first refresh after a load is no steadier than later ones, but warms the view's pages: unmeasured.
        await RefreshOnceAsync(cancellationToken);
        for (var round = 0; round < rounds; round++)
        {
            var perRound = readsPerPattern / rounds + (round < readsPerPattern % rounds ? 1 : 0);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var refreshing = Task.Run(async () =>
            {
                do
                {
                    _refreshSeconds.Add(await RefreshOnceAsync(cancellationToken));
                }
                while (!stop.IsCancellationRequested);
            }, CancellationToken.None);
            // Reads start once the refresh is under way, and the last one ends before the refresh loop is told to stop.
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            await ReadBlockAsync("during", patterns, perRound, cancellationToken);
            await stop.CancelAsync();
            await refreshing;
            await ReadBlockAsync("quiet", patterns, perRound, cancellationToken);
        }

        var watch = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/optimization/analytics/refresh");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", projectKey);
        using var response = await http.SendAsync(request, cancellationToken);
        HttpRefresh = (watch.Elapsed.TotalMilliseconds, (int)response.StatusCode);
    }

    // Patterns in turn, one request each, so every pattern meets every phase of the refresh.
    private async Task ReadBlockAsync(string phase, string[] patterns, int perPattern, CancellationToken cancellationToken)
    {
        for (var i = 0; i < perPattern; i++)
        {
            foreach (var pattern in patterns)
            {
                var call = scenario.Next(pattern, "refresh");
                var start = Stopwatch.GetTimestamp();
                await reads.RunAsync(call, cancellationToken);
                Reads.Add(pattern, phase, Measurements.Ms(start));
            }
        }
    }

    private async Task<double> RefreshOnceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await owner.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT refresh_run_analytics()", connection) { CommandTimeout = 900 };
        var watch = Stopwatch.StartNew();
        await command.ExecuteScalarAsync(cancellationToken);
        return watch.Elapsed.TotalSeconds;
    }
}
