using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Candidates;

/// <summary>
/// The rules for a batch of candidates, checked before anything is written: per-field messages keyed by the field's
/// path in the request (<c>candidates[3].kind</c>), all of them at once, so a refused batch writes nothing.
/// </summary>
public static class CandidateRules
{
    public const int MaxCandidatesPerCall = 1_000;
    public const int MaxPredictorLength = 200;
    public const int MaxTextLength = 20_000;
    public const int MaxDemos = 100;
    public const int MaxDemosBytes = 200 * 1024;

    // A batch of a thousand bad candidates is refused just the same; the first hundred fields say enough.
    private const int MaxErrors = 100;

    /// <summary>
    /// Checks every candidate; throws <see cref="RunValidationException"/> naming each bad field. Answers the distinct
    /// candidates in request order: a repeat within the batch with the same content is left out (the caller counts it
    /// as a duplicate); with a different content it is an error.
    /// </summary>
    public static IReadOnlyList<CandidateRecord> Validate(IReadOnlyList<CandidateRecord?> candidates)
    {
        var errors = new RunRules.Errors();
        if (candidates.Count == 0)
        {
            errors.Add("candidates", "At least one candidate.");
        }
        else if (candidates.Count > MaxCandidatesPerCall)
        {
            errors.Add("candidates", $"At most {MaxCandidatesPerCall:N0} candidates per call.");
        }

        var distinct = new List<CandidateRecord>(candidates.Count);
        var seen = new Dictionary<(string, CandidateKind, int), int>();
        for (var i = 0; i < candidates.Count && errors.Count < MaxErrors; i++)
        {
            var candidate = candidates[i];
            var prefix = $"candidates[{i}]";
            if (candidate is null)
            {
                errors.Add(prefix, "Required: a candidate object, not null.");
                continue;
            }

            var before = errors.Count;
            Describe(errors, prefix + ".", candidate);
            if (errors.Count > before)
            {
                continue;
            }

            var key = (candidate.Predictor, candidate.Kind, candidate.Index);
            if (!seen.TryGetValue(key, out var first))
            {
                seen[key] = i;
                distinct.Add(candidate);
            }
            else if (!SameContent(candidates[first]!, candidate))
            {
                errors.Add(prefix, $"Repeats candidates[{first}] (predictor \"{candidate.Predictor}\", {candidate.Kind.ToName()} {candidate.Index}) with a different content.");
            }
        }

        errors.ThrowIfAny();
        return distinct;
    }

    private static void Describe(RunRules.Errors errors, string prefix, CandidateRecord candidate)
    {
        if (string.IsNullOrWhiteSpace(candidate.Predictor))
        {
            errors.Add(prefix + "predictor", "Required: the predictor's index or name.");
        }
        else if (candidate.Predictor.Length > MaxPredictorLength)
        {
            errors.Add(prefix + "predictor", $"At most {MaxPredictorLength} characters.");
        }
        else if (candidate.Predictor.Contains('\0'))
        {
            errors.Add(prefix + "predictor", "Must not contain NUL characters.");
        }

        if (!Enum.IsDefined(candidate.Kind))
        {
            errors.Add(prefix + "kind", "Must be instruction or demos.");
        }

        if (candidate.Index < 0)
        {
            errors.Add(prefix + "index", "Must be 0 or more.");
        }

        switch (candidate.Kind)
        {
            case CandidateKind.Instruction:
                InstructionText(errors, prefix + "text", candidate.Text);
                if (candidate.DemosJson is not null)
                {
                    errors.Add(prefix + "demos", "Only a demos candidate has demos; an instruction has text.");
                }

                break;
            case CandidateKind.Demos:
                DemoSet(errors, prefix + "demos", candidate.DemosJson);
                if (candidate.Text is not null)
                {
                    errors.Add(prefix + "text", "Only an instruction candidate has text; a demo set has demos.");
                }

                break;
        }
    }

    private static void InstructionText(RunRules.Errors errors, string field, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(field, "Required: the instruction's text.");
        }
        else if (text.Contains('\0'))
        {
            errors.Add(field, "Must not contain NUL characters.");
        }
        // Characters as PostgreSQL counts them: code points, not UTF-16 units.
        else if (text.Length > MaxTextLength && text.EnumerateRunes().Count() > MaxTextLength)
        {
            errors.Add(field, $"At most {MaxTextLength:N0} characters.");
        }
    }

    private static void DemoSet(RunRules.Errors errors, string field, string? json)
    {
        if (json is null)
        {
            errors.Add(field, "Required: the demo set, a JSON array of demo objects.");
            return;
        }

        if (Encoding.UTF8.GetByteCount(json) > MaxDemosBytes)
        {
            errors.Add(field, $"At most {MaxDemosBytes:N0} bytes of JSON (200 KB).");
            return;
        }

        // jsonb cannot hold a NUL character, though JSON can spell one.
        if (json.Contains("\\u0000", StringComparison.Ordinal) || json.Contains('\0'))
        {
            errors.Add(field, "Must not contain NUL characters.");
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                errors.Add(field, "Must be a JSON array of demo objects.");
            }
            else if (root.GetArrayLength() > MaxDemos)
            {
                errors.Add(field, $"At most {MaxDemos} demos.");
            }
            else if (root.EnumerateArray().Any(demo => demo.ValueKind != JsonValueKind.Object))
            {
                errors.Add(field, "Every demo must be a JSON object (an example's fields).");
            }
        }
        catch (JsonException)
        {
            errors.Add(field, "Must be valid JSON.");
        }
    }

    // Content as the database compares it: the text exactly, the demos as JSON values (jsonb ignores key order and spacing).
    private static bool SameContent(CandidateRecord a, CandidateRecord b) =>
        a.Text == b.Text && (a.DemosJson == b.DemosJson
            || (a.DemosJson is not null && b.DemosJson is not null
                && JsonNode.DeepEquals(JsonNode.Parse(a.DemosJson), JsonNode.Parse(b.DemosJson))));
}
