using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>For --via http: a project key made through the admin API, and one pooled client for all workers.</summary>
public static class HttpWriters
{
    public static async Task<Func<Guid, IRunWriter>> ForProjectAsync(BenchOptions options, Guid projectId, CancellationToken cancellationToken)
    {
        var adminKey = Environment.GetEnvironmentVariable("OPTRUNS_ADMIN_KEY")
            ?? throw new InvalidOperationException("--via http needs OPTRUNS_ADMIN_KEY (the gateway's admin key).");
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Workers, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        var http = new HttpClient(handler) { BaseAddress = new Uri(options.HttpUrl), Timeout = TimeSpan.FromSeconds(100) };

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/projects/{projectId}/api-keys")
        {
            Content = JsonContent.Create(new { name = "bench-ingest" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var key = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.RootElement.GetProperty("key").GetString());
        // The run's id is derived from the project and the client key the bench sends (RunIds.ForClientKey).
        return clientKey => new HttpRunWriter(http, clientKey, RunIds.ForClientKey(projectId, clientKey));
    }
}
