using System.Text.Json;

namespace OptimizationRuns.Grains.Runs;

/// <summary>
/// Optimizer-specific checks of a run's <c>config</c>: known keys must have sensible values (DSPy's own
/// parameter names); unknown keys pass, since optimizers grow new options faster than we do.
/// </summary>
public static class ConfigRules
{
    private static readonly string[] AutoModes = ["light", "medium", "heavy"];

    // Keys whose value must be a whole number ≥ the given minimum, per optimizer ("*" for all of them).
    private static readonly Dictionary<string, (string Optimizer, int Min)[]> WholeNumbers = new()
    {
        ["num_candidates"] = [("miprov2", 1), ("copro", 1)],
        ["num_trials"] = [("miprov2", 1)],
        ["minibatch_size"] = [("miprov2", 1)],
        ["minibatch_full_eval_steps"] = [("miprov2", 1)],
        ["max_bootstrapped_demos"] = [("*", 0)],
        ["max_labeled_demos"] = [("*", 0)],
        ["max_rounds"] = [("bootstrap_fewshot", 1), ("bootstrap_fewshot_random_search", 1)],
        ["num_candidate_programs"] = [("bootstrap_fewshot_random_search", 1)],
        ["num_threads"] = [("*", 1)],
        ["breadth"] = [("copro", 2)],
        ["depth"] = [("copro", 1)],
        ["max_steps"] = [("simba", 1)],
        ["bsize"] = [("simba", 1)],
        ["num_candidates_per_step"] = [("simba", 1)],
        ["seed"] = [("*", 0)],
    };

    /// <summary>Adds an error per offending config key (as <c>config.key</c>).</summary>
    public static void Validate(RunRules.Errors errors, OptimizerType optimizer, string? configJson)
    {
        if (configJson is null || !configJson.AsSpan().TrimStart().StartsWith("{"))
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(configJson);
        }
        catch (JsonException)
        {
            return; // RunRules reports the config as invalid JSON.
        }

        using (document)
        {
            var name = optimizer.ToName();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var field = "config." + property.Name;
                if (WholeNumbers.TryGetValue(property.Name, out var rules)
                    && rules.FirstOrDefault(r => r.Optimizer == "*" || r.Optimizer == name) is { Optimizer: not null } rule
                    && property.Value.ValueKind != JsonValueKind.Null
                    && !(property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt64(out var n) && n >= rule.Min))
                {
                    errors.Add(field, $"Must be a whole number, {rule.Min} or more.");
                }

                switch (property.Name)
                {
                    case "auto" when optimizer == OptimizerType.Miprov2 && property.Value.ValueKind != JsonValueKind.Null
                        && !(property.Value.ValueKind == JsonValueKind.String && AutoModes.Contains(property.Value.GetString())):
                        errors.Add(field, "Must be one of light, medium, heavy (or null).");
                        break;
                    case "minibatch" when property.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False):
                        errors.Add(field, "Must be true or false.");
                        break;
                    case "init_temperature" or "temperature" when
                        !(property.Value.ValueKind == JsonValueKind.Number && property.Value.GetDouble() is >= 0 and <= 2):
                        errors.Add(field, "Must be a number from 0 to 2.");
                        break;
                }
            }

            // MIPROv2 without auto needs its trial count (DSPy raises the same error at compile time).
            var root = document.RootElement;
            if (optimizer == OptimizerType.Miprov2 && root.TryGetProperty("auto", out var auto) && auto.ValueKind == JsonValueKind.Null
                && !root.TryGetProperty("num_trials", out _))
            {
                errors.Add("config.num_trials", "Required when auto is null.");
            }
        }
    }
}
