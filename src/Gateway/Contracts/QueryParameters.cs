using System.Globalization;
using System.Text.Json;
using OptimizationRuns.Grains;
using OptimizationRuns.Grains.Queries;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Contracts;

/// <summary>
/// Query-string values arrive as text and are read here, so a bad value answers 400 naming its parameter
/// (binding them as numbers or enums would fail before the endpoint, without the name).
/// </summary>
public sealed class QueryParameters
{
    public const int MaxRunPage = Limits.MaxRunPage;
    public const int DefaultRunPage = Limits.DefaultRunPage;
    public const int MaxSamplePage = Limits.MaxSamplePage;
    public const int DefaultSamplePage = Limits.DefaultSamplePage;
    public const int MaxLeaderboard = Limits.MaxLeaderboard;
    public const int DefaultLeaderboard = Limits.DefaultLeaderboard;
    public const int MaxTags = Limits.MaxTags;
    public const int MaxTagLength = Limits.MaxTagLength;
    public const int MaxSearchLength = 200;
    /// <summary>The longest JSON object a containment filter (config, metadata, params) may be.</summary>
    public const int MaxConfigLength = 4_096;

    /// <summary>The run list's sort names.</summary>
    public static readonly IReadOnlyDictionary<string, RunSort> Sorts = new Dictionary<string, RunSort>(StringComparer.Ordinal)
    {
        ["-createdAt"] = RunSort.CreatedAt,
        ["-finalScore"] = RunSort.FinalScore,
        ["-bestScore"] = RunSort.BestScore,
        ["-improvement"] = RunSort.Improvement,
    };

    private readonly Dictionary<string, string[]> _errors = [];

    public bool Valid => _errors.Count == 0;

    /// <summary>Messages per parameter, as a validation problem shows them.</summary>
    public IDictionary<string, string[]> Errors => _errors;

    public void Add(string field, string message) =>
        _errors[field] = _errors.TryGetValue(field, out var messages) ? [.. messages, message] : [message];

    public int Limit(string? text, int fallback, int max, string field = "limit")
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 && value <= max)
        {
            return value;
        }

        Add(field, $"Must be a whole number from 1 to {max}.");
        return fallback;
    }

    public int? NonNegative(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        Add(field, "Must be a whole number ≥ 0.");
        return null;
    }

    public decimal? Score(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value <= 1)
        {
            return value;
        }

        Add(field, "Must be a score from 0 to 1.");
        return null;
    }

    public bool? Boolean(string? text, string field)
    {
        switch (text)
        {
            case null or "":
                return null;
            case "true":
                return true;
            case "false":
                return false;
            default:
                Add(field, "Must be true or false.");
                return null;
        }
    }

    public DateTimeOffset? Time(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value.ToUniversalTime();
        }

        Add(field, "Must be an ISO-8601 time, e.g. 2026-11-26T10:00:00Z.");
        return null;
    }

    public T? Name<T>(string? text, string field) where T : struct, Enum
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (DomainNames.TryParseName<T>(text, out var value))
        {
            return value;
        }

        Add(field, "Must be one of " + string.Join(", ", Enum.GetValues<T>().Select(v => v.ToName())) + ".");
        return null;
    }

    /// <summary>The run list's query, or null with the errors recorded.</summary>
    public RunListQuery? RunList(
        string? status, string? optimizerType, string[]? tag, string? config, string? metadata, string? q, string? minScore,
        string? createdAfter, string? createdBefore, string? sort, string? limit, string? cursor)
    {
        var sortValue = RunSort.CreatedAt;
        if (!string.IsNullOrEmpty(sort) && !Sorts.TryGetValue(sort, out sortValue))
        {
            Add("sort", "Must be one of " + string.Join(", ", Sorts.Keys) + ".");
        }

        var tags = tag?.Where(t => !string.IsNullOrEmpty(t)).Distinct(StringComparer.Ordinal).ToList();
        if (tags is { Count: > MaxTags })
        {
            Add("tag", $"At most {MaxTags} tags.");
        }
        else if (tags?.FirstOrDefault(t => t.Length > MaxTagLength) is not null)
        {
            Add("tag", $"A tag has at most {MaxTagLength} characters.");
        }

        var after = Time(createdAfter, "createdAfter");
        var before = Time(createdBefore, "createdBefore");
        if (after is not null && before is not null && before <= after)
        {
            Add("createdBefore", "Must be later than createdAfter.");
        }

        if (q?.Length > MaxSearchLength)
        {
            Add("q", $"At most {MaxSearchLength} characters.");
        }

        var query = new RunListQuery
        {
            Status = Name<RunStatus>(status, "status"),
            OptimizerType = Name<OptimizerType>(optimizerType, "optimizerType"),
            Tags = tags is { Count: > 0 } ? tags : null,
            ConfigJson = JsonObject(config, "config", """{"model":"gpt-4"}"""),
            MetadataJson = JsonObject(metadata, "metadata", """{"git_sha":"c4ca423"}"""),
            NameContains = string.IsNullOrEmpty(q) ? null : q,
            MinScore = Score(minScore, "minScore"),
            CreatedAfter = after,
            CreatedBefore = before,
            Sort = sortValue,
            Limit = Limit(limit, DefaultRunPage, MaxRunPage),
        };

        if (!string.IsNullOrEmpty(cursor) && Valid)
        {
            if (Cursors.TryDecode(cursor, sortValue, out var position))
            {
                query = query with { After = position };
            }
            else
            {
                Add("cursor", "Not a cursor of this list: pass nextCursor as answered, with the same sort.");
            }
        }

        return Valid ? query : null;
    }

    /// <summary>A run's samples page query, or null with the errors recorded.</summary>
    public SampleQuery? Samples(
        Guid runId, string? iteration, string? kind, string? success, string? minScore, string? maxScore, string? exampleId,
        string? errorsOnly, string? limit, string? cursor)
    {
        var min = Score(minScore, "minScore");
        var max = Score(maxScore, "maxScore");
        if (min is not null && max is not null && max < min)
        {
            Add("maxScore", "Must not be less than minScore.");
        }

        SamplePosition? after = null;
        if (!string.IsNullOrEmpty(cursor) && (!Cursors.TryDecode(cursor, out after) || after!.RunId != runId))
        {
            Add("cursor", "Not a cursor of this run's samples: pass nextCursor as answered.");
        }

        var query = new SampleQuery
        {
            RunId = runId,
            Iteration = NonNegative(iteration, "iteration"),
            Kind = Name<IterationKind>(kind, "kind"),
            Success = Boolean(success, "success"),
            MinScore = min,
            MaxScore = max,
            ExampleId = SampleExampleId(exampleId),
            ErrorsOnly = Boolean(errorsOnly, "errorsOnly") ?? false,
            Limit = Limit(limit, DefaultSamplePage, MaxSamplePage),
            After = after,
        };
        return Valid ? query : null;
    }

    // An example id is matched exactly; one no sample could be recorded with (too long, or with a NUL, which
    // PostgreSQL text cannot hold) is refused rather than sent to the database.
    private string? SampleExampleId(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text.Length > Limits.MaxNameLength)
        {
            Add("exampleId", $"Must be at most {Limits.MaxNameLength} characters.");
        }
        else if (text.Contains('\0'))
        {
            Add("exampleId", "Must not contain a NUL character.");
        }

        return text;
    }

    /// <summary>A trace's samples page query, or null with the errors recorded.</summary>
    public TraceSampleQuery? TraceSamples(string traceId, string? limit, string? cursor)
    {
        var id = traceId.ToLowerInvariant();
        if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
        {
            Add("traceId", "Must be a W3C trace id: 32 hexadecimal digits.");
        }

        SamplePosition? after = null;
        if (!string.IsNullOrEmpty(cursor) && !Cursors.TryDecodeTrace(cursor, out after))
        {
            Add("cursor", "Not a cursor of this trace's samples: pass nextCursor as answered.");
        }

        var query = new TraceSampleQuery { TraceId = id, Limit = Limit(limit, DefaultSamplePage, MaxSamplePage), After = after };
        return Valid ? query : null;
    }

    /// <summary>
    /// The iteration list's params filter: a JSON object the trial's params contain; null when not given or, with the
    /// error recorded, when it is not a JSON object.
    /// </summary>
    public string? IterationParams(string? text) => JsonObject(text, "params", """{"predictors":{"0":{"instruction":2}}}""");

    /// <summary>A containment filter's JSON object, as its own text; null when not given or, with the error recorded, invalid.</summary>
    private string? JsonObject(string? text, string field, string example)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text.Length > MaxConfigLength)
        {
            Add(field, $"At most {MaxConfigLength} characters.");
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                // The object's own text (not re-serialised: whitespace inside stays), so the database receives exactly the JSON that was checked.
                return document.RootElement.GetRawText();
            }
        }
        catch (JsonException)
        {
            Add(field, $"Must be a JSON object, e.g. {example}; this is not valid JSON.");
            return null;
        }

        Add(field, $"Must be a JSON object, e.g. {example}.");
        return null;
    }
}
