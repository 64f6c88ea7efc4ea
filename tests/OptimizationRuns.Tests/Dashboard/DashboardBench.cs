using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>Runs only when <c>OPTRUNS_DASHBOARD_BENCH=1</c> (bench/dashboard.sh): a benchmark, not a test.</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("OPTRUNS_DASHBOARD_BENCH") != "1")
        {
            Skip = "A benchmark: bench/dashboard.sh runs it (OPTRUNS_DASHBOARD_BENCH=1).";
        }
    }
}

/// <summary>
/// The dashboard's figures (issue 12): the run page's server time on a heavy run against the REST calls it makes,
/// first paint and the chart drawn in headless chromium, a 2,000-trial chart's render time measured in the page, and
/// the latency from a trial's acknowledgement to its point on an open run page while 16 runs ingest.
/// Prints one JSON object and writes it to .data/bench/dashboard.json.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBench(DashboardFixture fixture)
{
    private const int Predictors = 4;

    [BenchFact]
    public async Task DashboardFigures()
    {
        var (_, key) = await fixture.NewProjectAsync();
        using var api = fixture.Api(key);
        var figures = new Dictionary<string, object>();

        var heavy = await HeavyRunAsync(api);
        var page = await fixture.SignedInPageAsync(key);
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "optruns_session");
        using var browserLike = new HttpClient { BaseAddress = fixture.BaseAddress };
        browserLike.DefaultRequestHeaders.Add("Cookie", $"{cookie.Name}={cookie.Value}");

        var pageTimes = await TimeAsync(() => browserLike.GetStringAsync($"/runs/{heavy}"));
        var restTimes = await TimeAsync(async () =>
        {
            foreach (var path in new[] { "", "/trajectory", "/iterations", "/candidates" })
            {
                await api.GetStringAsync($"/api/optimization/runs/{heavy}{path}");
            }
        });
        figures["runPageServerMs"] = Summary(pageTimes);
        figures["restCallsOfThePageMs"] = Summary(restTimes);
        figures["runPageOverRestP50"] = Math.Round(Percentile(pageTimes, 50) / Percentile(restTimes, 50), 2);

        var (paints, drawn) = await PaintsAsync(page, heavy);
        figures["firstContentfulPaintMs"] = Summary(paints);
        figures["chartDrawnMs"] = Summary(drawn);

        var wide = await TrialsOnlyRunAsync(api, 2000);
        var renders = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            await page.GotoAsync($"/runs/{wide}");
            await page.Locator("#trajectory canvas").WaitForAsync();
            renders.Add(await page.EvaluateAsync<double>("performance.getEntriesByName('trajectory-render')[0].duration"));
        }

        figures["chart2000TrialsRenderMs"] = Summary(renders);
        figures["runPage2000TrialsServerMs"] = Summary(await TimeAsync(() => browserLike.GetStringAsync($"/runs/{wide}"), warmup: 3, count: 20));
        figures["liveAckToPointMs"] = await LiveLatencyAsync(api, page, runs: 16, trials: 40);

        var json = JsonSerializer.Serialize(figures);
        Console.WriteLine(json);
        var root = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        Directory.CreateDirectory(Path.Combine(root, ".data", "bench"));
        await File.WriteAllTextAsync(Path.Combine(root, ".data", "bench", "dashboard.json"), json);
    }

    // 50 trials over 4 predictors: a baseline and 10 full evaluations of 1,000 examples, 39 minibatches of 25:
    // 12,975 samples.
    private static async Task<Guid> HeavyRunAsync(HttpClient api)
    {
        var run = await RunScript.CreateAsync(api, "heavy", trials: 50);
        await RunScript.ReadAsync(await api.PatchAsJsonAsync($"/api/optimization/runs/{run.RunId}", new { status = "running" }), System.Net.HttpStatusCode.OK);
        var candidates = Enumerable.Range(0, Predictors).SelectMany(p => Enumerable.Range(0, 6).SelectMany(i => new object[]
        {
            new { predictor = $"p{p}", kind = "instruction", index = i, text = $"Instruction {i} for predictor {p}: answer precisely, citing the passage." },
            new { predictor = $"p{p}", kind = "demos", index = i, demos = new[] { new { question = $"q{i}", answer = $"a{i}" } } },
        })).ToArray();
        await RunScript.ReadAsync(await api.PostAsJsonAsync($"/api/optimization/runs/{run.RunId}/candidates", new { candidates }), System.Net.HttpStatusCode.OK);
        var random = new Random(12);
        for (var trial = 1; trial <= 50; trial++)
        {
            var (kind, size) = trial == 1 ? ("baseline", 1000) : trial % 5 == 0 ? ("full", 1000) : ("minibatch", 25);
            var score = Math.Round(0.4 + 0.3 * trial / 50 + random.NextDouble() * 0.1, 3);
            var choice = Enumerable.Range(0, Predictors).ToDictionary(p => $"p{p}", _ => new { instruction = random.Next(6), demos = random.Next(6) });
            await RunScript.ReadAsync(await api.PostAsJsonAsync($"/api/optimization/runs/{run.RunId}/iterations", new
            {
                iteration = trial, kind, score, @params = new { predictors = choice }, samplesEvaluated = size,
                samplesSuccessful = size, promptTokens = 500 * size, completionTokens = 60 * size, costUsd = 0.0004 * size,
            }), System.Net.HttpStatusCode.Created);
            await run.SamplesAsync(trial, Enumerable.Range(0, size).Select(i => (i, random.NextDouble() < score)).ToArray());
        }

        return run.RunId;
    }

    private static async Task<Guid> TrialsOnlyRunAsync(HttpClient api, int trials)
    {
        var run = await RunScript.CreateAsync(api, $"{trials} trials", trials: trials);
        var random = new Random(7);
        await Parallel.ForEachAsync(Enumerable.Range(1, trials), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (trial, ct) =>
        {
            var kind = trial == 1 ? "baseline" : trial % 20 == 0 ? "full" : "minibatch";
            var response = await api.PostAsJsonAsync($"/api/optimization/runs/{run.RunId}/iterations",
                new { iteration = trial, kind, score = Math.Round(0.3 + 0.5 * random.NextDouble(), 3), costUsd = 0.01 }, ct);
            response.EnsureSuccessStatusCode();
        });
        return run.RunId;
    }

    private static async Task<(List<double> Paints, List<double> Drawn)> PaintsAsync(IPage page, Guid runId)
    {
        var paints = new List<double>();
        var drawn = new List<double>();
        for (var i = 0; i < 12; i++)
        {
            await page.GotoAsync($"/runs/{runId}");
            await page.Locator("#trajectory canvas").WaitForAsync();
            var timing = await page.EvaluateAsync<double[]>("""
                [performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
                 (m => m.startTime + m.duration)(performance.getEntriesByName('trajectory-render')[0])]
                """);
            if (i >= 2)
            {
                paints.Add(timing[0]);
                drawn.Add(timing[1]);
            }
        }

        return (paints, drawn);
    }

    // One page on run 0 while all 16 runs ingest a trial (with 25 samples) every ~250 ms each; run 0's
    // acknowledgements (wall clock) against the page's marks of the same trials' points (wall clock in the page).
    private static async Task<object> LiveLatencyAsync(HttpClient api, IPage page, int runs, int trials)
    {
        var scripts = new List<RunScript>();
        for (var i = 0; i < runs; i++)
        {
            var script = await RunScript.CreateAsync(api, $"ingesting {i}", trials: trials);
            await script.StartAsync();
            scripts.Add(script);
        }

        await page.GotoAsync($"/runs/{scripts[0].RunId}");
        await Assertions.Expect(page.Locator("#live-state")).ToHaveTextAsync("live");
        var acks = new Dictionary<int, double>();
        await Task.WhenAll(scripts.Select(async (script, index) =>
        {
            for (var trial = 1; trial <= trials; trial++)
            {
                var started = Stopwatch.GetTimestamp();
                var response = await api.PostAsJsonAsync($"/api/optimization/runs/{script.RunId}/iterations",
                    new { iteration = trial, kind = "minibatch", score = 0.5 + trial / 200.0, samplesEvaluated = 25 });
                response.EnsureSuccessStatusCode();
                if (index == 0)
                {
                    acks[trial] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                }

                await script.SamplesAsync(trial, Enumerable.Range(0, 25).Select(i => (i, i % 2 == 0)).ToArray());
                var spent = Stopwatch.GetElapsedTime(started);
                if (spent < TimeSpan.FromMilliseconds(250))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250) - spent);
                }
            }
        }));
        await Assertions.Expect(page.Locator($"#trials tr[data-iteration='{trials}']")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        var marks = await page.EvaluateAsync<Dictionary<string, double>>("""
            Object.fromEntries(performance.getEntriesByType('mark').filter(m => m.name.startsWith('trajectory-point-'))
              .map(m => [m.name.slice('trajectory-point-'.length), performance.timeOrigin + m.startTime]))
            """);
        var latencies = acks.Where(a => marks.ContainsKey(a.Key.ToString())).Select(a => marks[a.Key.ToString()] - a.Value).ToList();
        return new { samples = latencies.Count, missed = acks.Count - latencies.Count, ms = Summary(latencies) };
    }

    private static async Task<List<double>> TimeAsync(Func<Task> call, int warmup = 20, int count = 200)
    {
        for (var i = 0; i < warmup; i++)
        {
            await call();
        }

        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return times;
    }

    private static object Summary(List<double> values) => new
    {
        n = values.Count, p50 = Math.Round(Percentile(values, 50), 1), p95 = Math.Round(Percentile(values, 95), 1),
        max = Math.Round(values.DefaultIfEmpty(double.NaN).Max(), 1),
    };

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
