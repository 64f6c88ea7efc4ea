using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CsCheck;
using Dapper;
using OptimizationRuns.Tests.Fixtures;
using OptimizationRuns.Tests.Gateway;
using Xunit;
using Xunit.Abstractions;

namespace OptimizationRuns.Tests.Properties;

/// <summary>
/// Every endpoint under hostile bodies, query strings and headers (<see cref="HostileInput"/>): never a 5xx; a 4xx is
/// problem details, a 400 names the offending field; and a refused request writes nothing (the run's and the project's row
/// counts are unchanged). <c>OPTRUNS_PROPERTY_CASES</c> cases per endpoint (default 60;
/// bench/faults.sh --property-cases runs 10,000).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class HostileInputTests(GatewayFixture fixture, ITestOutputHelper output)
{
    private static readonly long Cases = long.TryParse(Environment.GetEnvironmentVariable("OPTRUNS_PROPERTY_CASES"), out var n) ? n : 60;

    private const string SamplesBody = """{"samples":[{"iteration":1,"sampleIndex":0,"exampleId":"ex-0","inputs":{"question":"q"},"expected":{"answer":"a"},"prediction":{"answer":"a"},"score":1.0,"success":true,"latencyMs":800,"promptTokens":512,"completionTokens":64,"costUsd":0.0004,"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}]}""";
    private const string IterationBody = """{"iteration":2,"kind":"full","score":0.7,"params":{"predictors":{"0":{"instruction":1}}},"startedAt":"2026-01-01T00:00:00Z"}""";
    private const string CandidatesBody = """{"candidates":[{"predictor":"0","kind":"instruction","index":1,"text":"Answer briefly."},{"predictor":"0","kind":"demos","index":0,"demos":[{"question":"2+2?","answer":"4"}]}]}""";

    /// <summary>Method, path ({run} is the test's run), a valid body (none for reads), the query parameters, whether the admin key calls it.</summary>
    public static TheoryData<string, string, string?, string, bool> Endpoints => new()
    {
        { "POST", "/api/optimization/runs", HttpJson.ExampleRunBody.Replace("}}", "},\"tags\":[\"a\"],\"metadata\":{\"git\":\"c4\"}}"), "", false },
        { "GET", "/api/optimization/runs", null, "status,optimizerType,tag,config,metadata,q,minScore,createdAfter,createdBefore,sort,limit,cursor", false },
        { "GET", "/api/optimization/runs/{run}", null, "", false },
        { "PATCH", "/api/optimization/runs/{run}", """{"runName":"renamed","tags":["x"],"metadata":{"k":"v"}}""", "", false },
        { "POST", "/api/optimization/runs/{run}/progress", """{"phase":"searching","currentIteration":1,"totalIterations":10,"message":"m"}""", "", false },
        { "POST", "/api/optimization/runs/{run}/iterations", IterationBody, "", false },
        { "GET", "/api/optimization/runs/{run}/iterations", null, "kind,params,limit,cursor,sort", false },
        { "GET", "/api/optimization/runs/{run}/iterations/best", null, "", false },
        { "POST", "/api/optimization/runs/{run}/samples", SamplesBody, "", false },
        { "GET", "/api/optimization/runs/{run}/samples", null, "iteration,success,minScore,maxScore,limit,cursor", false },
        { "GET", "/api/optimization/traces/4bf92f3577b34da6a3ce929d0e0e4736/samples", null, "limit,cursor", false },
        { "POST", "/api/optimization/runs/{run}/candidates", CandidatesBody, "", false },
        { "GET", "/api/optimization/runs/{run}/candidates", null, "", false },
        { "GET", "/api/optimization/runs/{run}/summary", null, "", false },
        { "GET", "/api/optimization/runs/{run}/trajectory", null, "", false },
        { "GET", "/api/optimization/runs/{run}/examples", null, "sort,kind,minEvaluations,limit,cursor", false },
        { "GET", "/api/optimization/runs/{run}/export", null, "format,what", false },
        { "GET", "/api/optimization/runs/{run}/events", null, "after", false },
        { "GET", "/api/optimization/leaderboard", null, "optimizerType,metric,limit", false },
        { "GET", "/api/optimization/analytics", null, "optimizerType,from,to", false },
        { "GET", "/api/optimization/compare", null, "a,b,aIteration,bIteration", false },
        { "GET", "/api/optimization/compare/examples", null, "a,b,aIteration,bIteration,bucket,limit,cursor", false },
        { "POST", "/api/projects", """{"name":"hostile"}""", "", true },
        { "POST", "/api/projects/{project}/api-keys", """{"name":"hostile"}""", "", true },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task HostileRequestsAreRefusedWithProblemDetailsAndWriteNothing(string method, string path, string? validBody, string parameters, bool admin)
    {
        var (projectId, project, _) = await fixture.NewProjectAsync();
        using var client = admin ? fixture.Admin() : project;
        var runId = await project.CreateRunAsync();
        // The run has something to read and compare: an iteration with samples.
        await (await project.PostRawAsync($"/api/optimization/runs/{runId}/samples", SamplesBody)).JsonAsync(HttpStatusCode.OK);
        if (path.EndsWith("/events", StringComparison.Ordinal))
        {
            // An ended run's stream replays its events and ends, so each case gets a whole answer.
            await (await project.PatchAsync($"/api/optimization/runs/{runId}", JsonContent.Create(new { status = "completed" }))).JsonAsync(HttpStatusCode.OK);
        }

        var url = path.Replace("{run}", runId.ToString()).Replace("{project}", projectId.ToString());
        var query = HostileInput.Query(parameters.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Concat(url.Contains("compare") ? ["a", "b"] : []).ToArray());
        // Compare needs run ids: sometimes the real one, so the checks past the id are reached too.
        var gen = Gen.Select(validBody is null ? Gen.Const((string?)null) : HostileInput.Body(validBody).Select(b => (string?)b), query, HostileInput.Headers, Gen.Bool);
        var counts = await CountsAsync(projectId, runId);
        var cases = 0;

        await gen.SampleAsync(async (body, queryString, headers, realIds) =>
        {
            cases++;
            var target = url + (realIds ? queryString.Replace(Guid.Empty.ToString(), runId.ToString()) : queryString);
            using var request = new HttpRequestMessage(new HttpMethod(method), target);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
                if (headers.ContentType is { } type)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
                }
            }

            if (headers.LastEventId is { } id)
            {
                request.Headers.TryAddWithoutValidation("Last-Event-ID", id);
            }

            if (headers.TraceParent is { } parent)
            {
                request.Headers.TryAddWithoutValidation("traceparent", parent);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var described = $"{method} {target} [{headers}] {Shorten(body)} → {status}";
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            Assert.True(status < 500, $"{described}: {text}");
            if (status >= 400)
            {
                Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{described}: not problem details: {text}");
                var problem = JsonDocument.Parse(text).RootElement;
                if (status == 400)
                {
                    Assert.True(problem.TryGetProperty("errors", out var errors) && errors.EnumerateObject().Any(e => e.Name.Length > 0),
                        $"{described}: the 400 names no field: {text}");
                }

                var now = await CountsAsync(projectId, runId);
                Assert.True(now == counts, $"{described}: a refused request wrote: {counts} → {now}");
            }
            else
            {
                counts = await CountsAsync(projectId, runId);
            }
        }, iter: Cases, threads: 1);

        output.WriteLine($"{method} {path}: {cases} cases");
    }

    // Projects are counted through their keys: other tests create projects at the same time.
    private static async Task<(long Runs, long Iterations, long Samples, long Candidates, long Keys)> CountsAsync(Guid projectId, Guid runId)
    {
        await using var connection = await TestDatabase.OpenOwnerAsync();
        return await connection.QuerySingleAsync<(long, long, long, long, long)>("""
            SELECT (SELECT count(*) FROM optimization_runs WHERE project_id = @projectId),
                   (SELECT count(*) FROM optimization_iterations WHERE run_id = @runId),
                   (SELECT count(*) FROM optimization_samples WHERE run_id = @runId),
                   (SELECT count(*) FROM optimization_candidates WHERE run_id = @runId),
                   (SELECT count(*) FROM project_api_keys WHERE project_id = @projectId)
            """, new { projectId, runId });
    }

    private static string Shorten(string? body) => body is null ? "" : body.Length <= 300 ? body : body[..300] + $"… ({body.Length:N0} chars)";
}
