using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>How a worker writes into a run: straight to its grain, or as JSON over HTTP through the gateway.</summary>
public interface IRunWriter
{
    Task StartAsync(string runName, CancellationToken cancellationToken);

    /// <summary>Throws <see cref="RunOverloadedException"/> when told to come back later (the retry loop waits as told).</summary>
    Task<SampleBatchResult> RecordSamplesAsync(List<SampleRecord> samples, CancellationToken cancellationToken);

    Task RecordIterationAsync(IterationRecord record, CancellationToken cancellationToken);

    Task CompleteAsync(CancellationToken cancellationToken);
}

/// <summary>Grain calls through the Orleans client.</summary>
public sealed class GrainRunWriter(IRunGrain grain) : IRunWriter
{
    public async Task StartAsync(string runName, CancellationToken cancellationToken)
    {
        await grain.CreateAsync(new CreateRun(runName, OptimizerType.Miprov2,
            """{"auto": "medium", "num_trials": 18, "minibatch_size": 35}""", DatasetName: "hotpotqa-dev",
            MetricName: "answer_exact_match", TaskModel: "gpt-4o-mini", PromptModel: "gpt-4o"), cancellationToken);
        await grain.TransitionAsync(new RunTransition(RunStatus.Running), cancellationToken);
    }

    public Task<SampleBatchResult> RecordSamplesAsync(List<SampleRecord> samples, CancellationToken cancellationToken) =>
        grain.RecordSamplesAsync(samples, cancellationToken);

    public Task RecordIterationAsync(IterationRecord record, CancellationToken cancellationToken) =>
        grain.RecordIterationAsync(record, cancellationToken);

    public Task CompleteAsync(CancellationToken cancellationToken) =>
        grain.TransitionAsync(new RunTransition(RunStatus.Completed, FinalScore: 0.6m), cancellationToken);
}

/// <summary>The REST contract over loopback, as an optimizer worker in another process would call it.</summary>
public sealed class HttpRunWriter(HttpClient http, Guid clientKey, Guid runId) : IRunWriter
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private string RunPath => $"/api/optimization/runs/{runId}";

    public async Task StartAsync(string runName, CancellationToken cancellationToken)
    {
        await SendAsync(HttpMethod.Post, "/api/optimization/runs", w =>
        {
            w.WriteString("id", clientKey);
            w.WriteString("runName", runName);
            w.WriteString("optimizerType", "miprov2");
            w.WritePropertyName("config");
            w.WriteRawValue("""{"auto": "medium", "num_trials": 18, "minibatch_size": 35}""");
            w.WriteString("datasetName", "hotpotqa-dev");
            w.WriteString("taskModel", "gpt-4o-mini");
        }, cancellationToken);
        await SendAsync(HttpMethod.Patch, RunPath, w => w.WriteString("status", "running"), cancellationToken);
    }

    public async Task<SampleBatchResult> RecordSamplesAsync(List<SampleRecord> samples, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"{RunPath}/samples", w =>
        {
            w.WriteStartArray("samples");
            foreach (var s in samples)
            {
                WriteSample(w, s);
            }

            w.WriteEndArray();
        }, cancellationToken);
        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = body.RootElement;
        return new SampleBatchResult(root.GetProperty("accepted").GetInt32(), root.GetProperty("inserted").GetInt32(),
            root.GetProperty("duplicates").GetInt32());
    }

    public async Task RecordIterationAsync(IterationRecord r, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(HttpMethod.Post, $"{RunPath}/iterations", w =>
        {
            w.WriteNumber("iteration", r.Iteration);
            if (r.Kind is { } kind)
            {
                w.WriteString("kind", kind.ToName());
            }

            if (r.Score is { } score)
            {
                w.WriteNumber("score", score);
            }

            if (r.ParamsJson is { } json)
            {
                w.WritePropertyName("params");
                w.WriteRawValue(json);
            }

            w.WriteNumber("samplesEvaluated", r.SamplesEvaluated ?? 0);
            w.WriteNumber("samplesSuccessful", r.SamplesSuccessful ?? 0);
            w.WriteNumber("samplesFailed", r.SamplesFailed ?? 0);
        }, cancellationToken);
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(HttpMethod.Patch, RunPath, w =>
        {
            w.WriteString("status", "completed");
            w.WriteNumber("finalScore", 0.6m);
        }, cancellationToken);
    }

    private static void WriteSample(Utf8JsonWriter w, SampleRecord s)
    {
        w.WriteStartObject();
        w.WriteNumber("iteration", s.Iteration);
        w.WriteNumber("sampleIndex", s.SampleIndex);
        w.WriteString("exampleId", s.ExampleId);
        Raw(w, "inputs", s.InputsJson);
        Raw(w, "expected", s.ExpectedJson);
        Raw(w, "prediction", s.PredictionJson);
        if (s.Score is { } score)
        {
            w.WriteNumber("score", score);
        }

        w.WriteBoolean("success", s.Success);
        if (s.Error is not null)
        {
            w.WriteString("error", s.Error);
        }

        if (s.LatencyMs is { } latency)
        {
            w.WriteNumber("latencyMs", latency);
        }

        w.WriteNumber("promptTokens", s.PromptTokens);
        w.WriteNumber("completionTokens", s.CompletionTokens);
        w.WriteNumber("costUsd", s.CostUsd);
        w.WriteString("traceId", s.TraceId);
        w.WriteString("spanId", s.SpanId);
        w.WriteEndObject();
    }

    private static void Raw(Utf8JsonWriter w, string name, string? json)
    {
        if (json is not null)
        {
            w.WritePropertyName(name);
            w.WriteRawValue(json, skipInputValidation: true);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Action<Utf8JsonWriter> body, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        using var request = new HttpRequestMessage(method, path) { Content = new ReadOnlyMemoryContent(buffer.WrittenMemory) };
        request.Content.Headers.ContentType = JsonType;
        var response = await http.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        var status = response.StatusCode;
        var retryAfter = response.Headers.RetryAfter?.Delta;
        response.Dispose();
        if (status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
        {
            throw new RunOverloadedException(retryAfter ?? TimeSpan.FromSeconds(1));
        }

        throw new HttpRequestException($"{method} {path}: {(int)status} {detail}", null, status);
    }
}
