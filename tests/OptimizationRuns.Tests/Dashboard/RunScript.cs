using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace OptimizationRuns.Tests.Dashboard;

/// <summary>Writes a MIPROv2-shaped run through the REST API, as a worker would: candidates, trials, samples.</summary>
public sealed class RunScript(HttpClient api, Guid runId)
{
    public Guid RunId { get; } = runId;

    private string Url => $"/api/optimization/runs/{RunId}";

    public static async Task<RunScript> CreateAsync(HttpClient api, string name, int trials = 6, string optimizer = "miprov2", string[]? tags = null)
    {
        var created = await api.PostAsJsonAsync("/api/optimization/runs", new
        {
            runName = name, optimizerType = optimizer, config = new { auto = "light", num_trials = trials }, tags = tags ?? ["qa"],
            datasetName = "hotpotqa-dev", metricName = "exact_match", taskModel = "gpt-4o-mini", promptModel = "gpt-4o",
            totalIterations = trials,
        });
        return new RunScript(api, (await ReadAsync(created, HttpStatusCode.Created)).GetProperty("id").GetGuid());
    }

    public async Task StartAsync()
    {
        await ReadAsync(await api.PatchAsJsonAsync(Url, new { status = "running" }), HttpStatusCode.OK);
        await ReadAsync(await api.PostAsJsonAsync($"{Url}/candidates", new
        {
            candidates = new object[]
            {
                new { predictor = "generate_answer", kind = "instruction", index = 0, text = "Answer the question." },
                new { predictor = "generate_answer", kind = "instruction", index = 1, text = "Think step by step, then answer with a short phrase." },
                new { predictor = "generate_answer", kind = "demos", index = 0, demos = new[] { new { question = "2+2?", answer = "4" } } },
            },
        }), HttpStatusCode.OK);
    }

    public async Task ProgressAsync(string phase, int trial, string message) =>
        await ReadAsync(await api.PostAsJsonAsync($"{Url}/progress", new { phase, currentIteration = trial, message }), HttpStatusCode.OK);

    /// <summary>Records trial <paramref name="iteration"/> with its samples (examples ex-0 … whose scores give the trial's score).</summary>
    public async Task TrialAsync(int iteration, string kind, double score, int samples = 10, int instruction = 1, string traceId = "4bf92f3577b34da6a3ce929d0e0e4736")
    {
        var recorded = await api.PostAsJsonAsync($"{Url}/iterations", new
        {
            iteration, kind, score,
            @params = new { predictors = new Dictionary<string, object> { ["generate_answer"] = new { instruction, demos = 0 } } },
            samplesEvaluated = samples, samplesSuccessful = samples, promptTokens = 500 * samples, completionTokens = 60 * samples,
            costUsd = 0.0004 * samples, startedAt = DateTimeOffset.UtcNow.AddSeconds(-3), completedAt = DateTimeOffset.UtcNow,
        });
        Assert.True(recorded.IsSuccessStatusCode, await recorded.Content.ReadAsStringAsync());
        if (samples > 0)
        {
            var correct = (int)Math.Round(score * samples);
            await SamplesAsync(iteration, Enumerable.Range(0, samples).Select(i => (i, i < correct)).ToArray(), traceId);
        }
    }

    public async Task SamplesAsync(int iteration, (int Example, bool Correct)[] examples, string traceId = "4bf92f3577b34da6a3ce929d0e0e4736")
    {
        var body = new
        {
            samples = examples.Select((e, index) => new
            {
                iteration, sampleIndex = index, exampleId = $"ex-{e.Example}",
                inputs = new { question = $"Who wrote book {e.Example}?" }, expected = new { answer = $"Author {e.Example}" },
                prediction = new { answer = e.Correct ? $"Author {e.Example}" : $"Someone {e.Example}" },
                score = e.Correct ? 1.0 : 0.0, success = e.Correct || e.Example % 5 != 4,
                error = e.Correct || e.Example % 5 != 4 ? null : "LM timed out",
                latencyMs = 700 + 10 * e.Example, promptTokens = 500, completionTokens = 60, costUsd = 0.0004,
                traceId, spanId = "00f067aa0ba902b7",
            }).ToArray(),
        };
        await ReadAsync(await api.PostAsJsonAsync($"{Url}/samples", body), HttpStatusCode.OK);
    }

    public async Task CompleteAsync(double finalScore) =>
        await ReadAsync(await api.PatchAsJsonAsync(Url, new { status = "completed", finalScore }), HttpStatusCode.OK);

    /// <summary>A finished little run: baseline, minibatch trials, full evaluations, then completed.</summary>
    public static async Task<RunScript> FinishedAsync(HttpClient api, string name, double baseline = 0.4, double best = 0.7, string[]? tags = null)
    {
        var run = await CreateAsync(api, name, trials: 6, tags: tags);
        await run.StartAsync();
        await run.TrialAsync(1, "baseline", baseline, instruction: 0);
        await run.TrialAsync(2, "minibatch", 0.5, samples: 5, instruction: 0);
        await run.TrialAsync(3, "minibatch", 0.8, samples: 5);
        await run.TrialAsync(4, "full", best - 0.1);
        await run.TrialAsync(5, "minibatch", 0.6, samples: 5);
        await run.TrialAsync(6, "full", best);
        await run.CompleteAsync(best);
        return run;
    }

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
