using System.Text;
using System.Text.RegularExpressions;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// The domain's rules for values, checked before anything is written. The gateway checks the same
/// request shapes first; these rules hold for every caller of the grains.
/// </summary>
public static partial class RunRules
{
    private const int MaxSamplesPerBatch = Limits.MaxSamplesPerBatch;
    private const int MaxNameLength = Limits.MaxNameLength;
    private const int MaxTags = Limits.MaxTags;
    private const int MaxTagLength = Limits.MaxTagLength;
    private const int MaxErrorLength = Limits.MaxErrorLength;

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TraceIdPattern();

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex SpanIdPattern();

    /// <summary>Collects per-field messages; throws them all at once.</summary>
    public sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _errors = [];

        public bool Any => _errors.Count > 0;

        public int Count => _errors.Count;

        public void Add(string field, string message)
        {
            if (!_errors.TryGetValue(field, out var list))
            {
                _errors[field] = list = [];
            }

            list.Add(message);
        }

        public void ThrowIfAny()
        {
            if (Any)
            {
                throw new RunValidationException(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
            }
        }
    }

    public static void Validate(CreateRun command)
    {
        var errors = new Errors();
        Text(errors, "runName", command.RunName, MaxNameLength, required: true);
        JsonObject(errors, "config", command.ConfigJson, required: true);
        JsonObject(errors, "metadata", command.MetadataJson, required: false);
        Score(errors, "baselineScore", command.BaselineScore);
        NotNegative(errors, "totalIterations", command.TotalIterations);
        Text(errors, "description", command.Description, 4000);
        foreach (var (field, value) in new[]
                 {
                     ("programName", command.ProgramName), ("datasetName", command.DatasetName),
                     ("metricName", command.MetricName), ("taskModel", command.TaskModel),
                     ("promptModel", command.PromptModel), ("createdBy", command.CreatedBy),
                 })
        {
            Text(errors, field, value, MaxNameLength);
        }

        Tags(errors, command.Tags);
        ConfigRules.Validate(errors, command.OptimizerType, command.ConfigJson);
        errors.ThrowIfAny();
    }

    private static void Tags(Errors errors, IReadOnlyList<string>? tags)
    {
        if (tags is null)
        {
            return;
        }

        if (tags.Count > MaxTags)
        {
            errors.Add("tags", $"At most {MaxTags} tags.");
        }

        for (var i = 0; i < tags.Count; i++)
        {
            Text(errors, $"tags[{i}]", tags[i], MaxTagLength, required: true);
        }

        if (tags.Sum(tag => tag is null ? 0 : Encoding.UTF8.GetByteCount(tag)) > Limits.MaxTagBytes)
        {
            errors.Add("tags", $"A run's tags have at most {Limits.MaxTagBytes} bytes together (as UTF-8).");
        }
    }

    public static void Validate(RunUpdate update)
    {
        var errors = new Errors();
        if (update.RunName is not null)
        {
            Text(errors, "runName", update.RunName, MaxNameLength, required: true);
        }

        JsonObject(errors, "metadata", update.MetadataJson, required: false);
        Score(errors, "baselineScore", update.BaselineScore);
        NotNegative(errors, "totalIterations", update.TotalIterations);
        Text(errors, "description", update.Description, 4000);
        foreach (var (field, value) in new[]
                 {
                     ("programName", update.ProgramName), ("datasetName", update.DatasetName),
                     ("metricName", update.MetricName), ("taskModel", update.TaskModel), ("promptModel", update.PromptModel),
                 })
        {
            Text(errors, field, value, MaxNameLength);
        }

        Tags(errors, update.Tags);
        errors.ThrowIfAny();
    }

    public static void Validate(RunTransition transition)
    {
        var errors = new Errors();
        Score(errors, "finalScore", transition.FinalScore);
        Text(errors, "errorMessage", transition.ErrorMessage, MaxErrorLength);
        JsonDocument(errors, "optimizedProgram", transition.OptimizedProgramJson);
        JsonDocument(errors, "errorDetails", transition.ErrorDetailsJson);
        if (transition.Status != RunStatus.Completed && transition.FinalScore is not null)
        {
            errors.Add("finalScore", "Only a completed run has a final score.");
        }

        if (transition.Status is RunStatus.Pending or RunStatus.Stalled)
        {
            errors.Add("status", $"A run cannot be set to {transition.Status.ToName()}.");
        }

        errors.ThrowIfAny();
    }

    public static void Validate(RunProgress progress)
    {
        var errors = new Errors();
        Text(errors, "phase", progress.Phase, 100);
        Text(errors, "message", progress.Message, 1000);
        NotNegative(errors, "currentIteration", progress.CurrentIteration);
        NotNegative(errors, "totalIterations", progress.TotalIterations);
        errors.ThrowIfAny();
    }

    public static void Validate(IterationRecord iteration, string prefix = "")
    {
        var errors = new Errors();
        NotNegative(errors, prefix + "iteration", iteration.Iteration);
        Score(errors, prefix + "score", iteration.Score);
        JsonObject(errors, prefix + "params", iteration.ParamsJson, required: false);
        JsonDocument(errors, prefix + "candidateProgram", iteration.CandidateProgramJson);
        JsonObject(errors, prefix + "metadata", iteration.MetadataJson, required: false);
        NotNegative(errors, prefix + "samplesEvaluated", iteration.SamplesEvaluated);
        NotNegative(errors, prefix + "samplesSuccessful", iteration.SamplesSuccessful);
        NotNegative(errors, prefix + "samplesFailed", iteration.SamplesFailed);
        NotNegative(errors, prefix + "promptTokens", iteration.PromptTokens);
        NotNegative(errors, prefix + "completionTokens", iteration.CompletionTokens);
        NotNegative(errors, prefix + "costUsd", iteration.CostUsd);
        if ((iteration.SamplesSuccessful ?? 0) + (iteration.SamplesFailed ?? 0) > (iteration.SamplesEvaluated ?? 0)
            && (iteration.SamplesSuccessful is not null || iteration.SamplesFailed is not null))
        {
            errors.Add(prefix + "samplesEvaluated", "Must be at least samplesSuccessful + samplesFailed.");
        }

        if (iteration.CompletedAt < iteration.StartedAt)
        {
            errors.Add(prefix + "completedAt", "Must not be before startedAt.");
        }

        TraceIds(errors, prefix, iteration.TraceId, iteration.SpanId);
        errors.ThrowIfAny();
    }

    public static void Validate(IReadOnlyList<SampleRecord> samples)
    {
        var errors = new Errors();
        if (samples.Count == 0)
        {
            errors.Add("samples", "At least one sample.");
        }
        else if (samples.Count > MaxSamplesPerBatch)
        {
            errors.Add("samples", $"At most {MaxSamplesPerBatch} samples per batch.");
        }

        for (var i = 0; i < samples.Count && errors.Count < 100; i++)
        {
            // The common case allocates nothing: field names are built only for a sample that breaks a rule.
            if (!IsValid(samples[i]))
            {
                Describe(errors, $"samples[{i}].", samples[i]);
            }
        }

        errors.ThrowIfAny();
    }

    private static bool IsValid(SampleRecord s) =>
        s.Iteration >= 0 && s.SampleIndex >= 0 && IsScore(s.Score) && IsNotNegative(s.LatencyMs) && s.PromptTokens >= 0
        && s.CompletionTokens >= 0 && s.CostUsd >= 0 && IsText(s.ExampleId, MaxNameLength) && IsText(s.Error, MaxErrorLength)
        && (s.InputsJson is null || IsJson(s.InputsJson)) && (s.ExpectedJson is null || IsJson(s.ExpectedJson))
        && (s.PredictionJson is null || IsJson(s.PredictionJson))
        && (s.TraceId is null || TraceIdPattern().IsMatch(s.TraceId)) && (s.SpanId is null || SpanIdPattern().IsMatch(s.SpanId));

    private static void Describe(Errors errors, string prefix, SampleRecord s)
    {
        NotNegative(errors, prefix + "iteration", s.Iteration);
        NotNegative(errors, prefix + "sampleIndex", s.SampleIndex);
        Score(errors, prefix + "score", s.Score);
        NotNegative(errors, prefix + "latencyMs", s.LatencyMs);
        NotNegative(errors, prefix + "promptTokens", s.PromptTokens);
        NotNegative(errors, prefix + "completionTokens", s.CompletionTokens);
        NotNegative(errors, prefix + "costUsd", s.CostUsd);
        Text(errors, prefix + "exampleId", s.ExampleId, MaxNameLength);
        Text(errors, prefix + "error", s.Error, MaxErrorLength);
        JsonDocument(errors, prefix + "inputs", s.InputsJson);
        JsonDocument(errors, prefix + "expected", s.ExpectedJson);
        JsonDocument(errors, prefix + "prediction", s.PredictionJson);
        TraceIds(errors, prefix, s.TraceId, s.SpanId);
    }

    private static bool IsText(string? value, int maxLength) =>
        string.IsNullOrWhiteSpace(value) || (value.Length <= maxLength && !value.Contains('\0'));

    private static bool IsScore(decimal? score) => score is null or (>= 0 and <= 1);

    private static bool IsNotNegative(double? value) => value is not { } v || (v >= 0 && !double.IsNaN(v) && !double.IsInfinity(v));

    private static void Text(Errors errors, string field, string? value, int maxLength, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.Add(field, "Required.");
            }
        }
        else if (value.Length > maxLength)
        {
            errors.Add(field, $"At most {maxLength} characters.");
        }
        else if (value.Contains('\0'))
        {
            errors.Add(field, "Must not contain NUL characters.");
        }
    }

    private static void Score(Errors errors, string field, decimal? score)
    {
        if (!IsScore(score))
        {
            errors.Add(field, "Must be a fraction between 0 and 1.");
        }
    }

    private static void NotNegative(Errors errors, string field, double? value)
    {
        if (!IsNotNegative(value))
        {
            errors.Add(field, "Must be a finite number, 0 or more.");
        }
    }

    private static void NotNegative(Errors errors, string field, long? value)
    {
        if (value < 0)
        {
            errors.Add(field, "Must be 0 or more.");
        }
    }

    private static void NotNegative(Errors errors, string field, decimal? value)
    {
        if (value < 0)
        {
            errors.Add(field, "Must be 0 or more.");
        }
    }

    private static void TraceIds(Errors errors, string prefix, string? traceId, string? spanId)
    {
        if (traceId is not null && !TraceIdPattern().IsMatch(traceId))
        {
            errors.Add(prefix + "traceId", "Must be 32 lower-case hex digits (a W3C trace id).");
        }

        if (spanId is not null && !SpanIdPattern().IsMatch(spanId))
        {
            errors.Add(prefix + "spanId", "Must be 16 lower-case hex digits (a W3C span id).");
        }
    }

    private static void JsonObject(Errors errors, string field, string? json, bool required)
    {
        if (json is null)
        {
            if (required)
            {
                errors.Add(field, "Required: a JSON object.");
            }

            return;
        }

        if (!json.AsSpan().TrimStart().StartsWith("{") || !IsJson(json))
        {
            errors.Add(field, "Must be a JSON object.");
        }
    }

    private static void JsonDocument(Errors errors, string field, string? json)
    {
        if (json is not null && !IsJson(json))
        {
            errors.Add(field, "Must be valid JSON.");
        }
    }

    // On the ingest path for every sample: reads the tokens without building a document.
    private static bool IsJson(string json)
    {
        // Valid JSON that PostgreSQL's jsonb still refuses: it cannot hold a NUL character.
        if (json.Contains("\\u0000", StringComparison.Ordinal) || json.Contains('\0'))
        {
            return false;
        }

        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(System.Text.Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = System.Text.Encoding.UTF8.GetBytes(json, buffer);
            var reader = new System.Text.Json.Utf8JsonReader(buffer.AsSpan(0, length));
            while (reader.Read())
            {
            }

            return reader.BytesConsumed > 0;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
