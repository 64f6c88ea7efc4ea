using System.Globalization;
using System.Text;

namespace OptimizationRuns.Bench.Queries;

/// <summary>
/// The generated data set: runs spread over projects and months, their iterations (trials) and, computed on
/// demand from a hash of (run, iteration, sample index), their samples. A sample's numbers are a pure function
/// of its key, so the run and iteration aggregates are summed before any sample is written and always match the
/// rows that the COPY writes later.
/// </summary>
public sealed class DataSet
{
    public const int BaseRuns = 10_000;
    public const int BaseIterations = 100_000;
    public const int BaseSamples = 1_000_000;

    private static readonly (string Name, double Weight)[] Optimizers =
    [
        ("miprov2", 0.45), ("bootstrap_fewshot", 0.12), ("bootstrap_fewshot_random_search", 0.13), ("copro", 0.08),
        ("gepa", 0.10), ("simba", 0.07), ("custom", 0.05),
    ];

    // Model, weight, $ per 1M prompt tokens, $ per 1M completion tokens.
    private static readonly (string Name, double Weight, decimal In, decimal Out)[] Models =
    [
        ("gpt-4o-mini", 0.40, 0.15m, 0.60m), ("gpt-4o", 0.15, 2.50m, 10m), ("claude-3-5-haiku", 0.10, 0.80m, 4m),
        ("claude-3-5-sonnet", 0.10, 3m, 15m), ("llama-3.1-8b", 0.10, 0.05m, 0.08m), ("llama-3.1-70b", 0.08, 0.60m, 0.80m),
        ("gemini-1.5-flash", 0.07, 0.075m, 0.30m),
    ];

    // Dataset, program, metric (exact_match scores are 0 or 1 per sample; the others are fractions).
    private static readonly (string Dataset, string Program, string Metric)[] Tasks =
    [
        ("hotpotqa-dev", "MultiHopRAG", "exact_match"), ("hover-dev", "ClaimVerifier", "exact_match"),
        ("gsm8k-test", "MathCoT", "exact_match"), ("ifbench", "InstructionFollower", "semantic_f1"),
        ("support-tickets-v3", "TicketRouter", "accuracy"), ("contracts-extraction", "ClauseExtractor", "f1"),
        ("faq-rag", "FaqRAG", "semantic_f1"), ("code-review", "ReviewSummarizer", "llm_judge"),
    ];

    private static readonly string[] TagWords =
    [
        "qa", "rag", "prod", "experiment", "baseline", "nightly", "classification", "extraction", "team-search",
        "team-support", "multi-hop", "math", "summarization", "ablation", "staging", "v2", "v3", "long-context",
        "regression", "agent", "code", "team-research", "cheap-lm", "teacher-student", "bootstrap-only", "gepa-trial",
        "release-candidate", "holdout", "latency-budget", "cost-cap",
    ];

    private static readonly string[] People = ["ana", "bo", "chen", "dmitri", "eve", "farah", "gus", "hana", "ivan", "jo"];

    private static readonly string[] ProjectNames = ["search-quality", "support-bot", "research", "evals-platform", "growth", "docs-assistant", "legal", "finance"];

    private static readonly string[] Errors =
    [
        "litellm.Timeout: APITimeoutError - Request timed out after 30.0 seconds",
        "litellm.RateLimitError: RateLimitError: 429 Too Many Requests",
        "ValueError: Expected dict_keys(['answer']) but got dict_keys([])",
        "AdapterParseError: LM response cannot be serialized to a JSON object",
    ];

    private static readonly string[] Words =
    [
        "the", "film", "director", "born", "which", "album", "released", "river", "city", "county", "population",
        "founded", "university", "author", "novel", "band", "singer", "team", "league", "season", "station", "railway",
        "company", "headquarters", "american", "british", "french", "war", "battle", "king", "queen", "empire", "island",
        "mountain", "lake", "capital", "state", "district", "church", "museum", "award", "won", "nominated", "series",
        "television", "episode", "character", "played", "role", "actor", "published", "magazine", "newspaper", "game",
        "developed", "designed", "built", "century", "year", "first", "second", "largest", "oldest", "named", "after",
        "known", "as", "also", "both", "same", "country", "older", "younger", "who", "what", "when", "where", "invoice",
        "refund", "customer", "contract", "clause", "liability", "termination", "payment", "shipping", "account",
    ];

    private const int Examples = 3_000;
    private const int Reasonings = 4_096;

    private readonly string[] _inputs = new string[Examples];
    private readonly string[] _answers = new string[Examples];
    private readonly string[] _reasonings = new string[Reasonings];

    private DataSet(double scale)
    {
        RunCount = Math.Max(10, (int)Math.Round(BaseRuns * scale));
        IterationCount = Math.Max(RunCount * 2, (int)Math.Round(BaseIterations * scale));
        SampleCount = Math.Max(IterationCount, (long)Math.Round(BaseSamples * scale));
    }

    public int RunCount { get; }
    public int IterationCount { get; }
    public long SampleCount { get; }
    public IReadOnlyList<Guid> ProjectIds { get; private set; } = [];
    public List<RunSpec> Runs { get; } = [];
    public List<IterationSpec> Iterations { get; } = [];
    public DateTime Now { get; private set; }

    /// <summary>Project names for the admin API, one per project.</summary>
    public static string ProjectName(int index) =>
        index < ProjectNames.Length ? ProjectNames[index] : $"project-{index + 1}";

    /// <summary>Generates the runs and iterations (samples follow from them) for the given projects.</summary>
    public static DataSet Generate(double scale, IReadOnlyList<Guid> projectIds, int seed)
    {
        var data = new DataSet(scale) { ProjectIds = projectIds, Now = DateTime.UtcNow };
        var random = new Random(seed);
        data.BuildText(random);
        data.BuildRuns(random);
        data.BuildIterations(random);
        data.BuildSampleCounts(random);
        data.SumAggregates();
        return data;
    }

    // ───────────────────────────── runs ─────────────────────────────

    private void BuildRuns(Random random)
    {
        var projectWeights = Enumerable.Range(0, ProjectIds.Count).Select(i => 1.0 / (i + 2)).ToArray();
        var months = TimeSpan.FromDays(270);
        for (var i = 0; i < RunCount; i++)
        {
            // Ages skew recent: a team runs more optimizations as it adopts the tool.
            var age = months * Math.Pow(random.NextDouble(), 1.6);
            var createdAt = Truncate(Now - age);
            var project = Pick(random, projectWeights);
            var optimizer = Optimizers[Pick(random, Optimizers.Select(o => o.Weight).ToArray())].Name;
            var model = Models[Pick(random, Models.Select(m => m.Weight).ToArray())];
            var task = Tasks[random.Next(Tasks.Length)];
            var recent = age < TimeSpan.FromDays(2);
            var status = recent
                ? Choose(random, ("running", 0.35), ("pending", 0.15), ("stalled", 0.05), ("completed", 0.35), ("failed", 0.07), ("cancelled", 0.03))
                : Choose(random, ("completed", 0.76), ("failed", 0.12), ("cancelled", 0.09), ("stalled", 0.02), ("pending", 0.01));
            var (config, auto, planned) = Config(random, optimizer, model.Name);
            var run = new RunSpec
            {
                Index = i,
                Seed = Mix((ulong)i * 0x9E3779B97F4A7C15UL + (ulong)ProjectIds.Count),
                Id = Guid.CreateVersion7(new DateTimeOffset(createdAt, TimeSpan.Zero)),
                Project = project,
                ProjectId = ProjectIds[project],
                RunName = $"{task.Dataset.Split('-')[0]}-{Short(optimizer)}{(auto is null ? "" : "-" + auto)}-{i % 997:000}",
                Description = random.NextDouble() < 0.3 ? $"{task.Program} on {task.Dataset} with {model.Name}; {Phrase(random, 4, 12)}" : null,
                OptimizerType = optimizer,
                Status = status,
                CreatedBy = People[random.Next(People.Length)] + "@example.com",
                ConfigJson = config,
                MetadataJson = $$"""{"git_sha":"{{Hex(random, 7)}}","dspy_version":"2.6.{{random.Next(10, 28)}}","host":"worker-{{random.Next(1, 40):00}}","num_threads":{{(random.NextDouble() < 0.7 ? 8 : 16)}}}""",
                Tags = Tags(random, optimizer, model.Name),
                ProgramName = task.Program,
                DatasetName = task.Dataset,
                MetricName = task.Metric,
                ExactMetric = task.Metric is "exact_match" or "accuracy",
                TaskModel = model.Name,
                PromptModel = random.NextDouble() < 0.6 ? "gpt-4o" : model.Name,
                PriceIn = model.In,
                PriceOut = model.Out,
                PlannedIterations = planned,
                CreatedAt = createdAt,
                Baseline = Round4(0.2 + random.NextDouble() * 0.55),
                Gain = -0.02 + random.NextDouble() * 0.27,
                SampleWeight = Math.Exp(NextGaussian(random) * 0.8),
            };
            Runs.Add(run);
        }

        // Oldest first, as they were created (the COPY order is the insertion order of a real system).
        Runs.Sort((a, b) => a.CreatedAt.CompareTo(b.CreatedAt));
        for (var i = 0; i < Runs.Count; i++)
        {
            Runs[i].Index = i;
        }
    }

    private static (string Json, string? Auto, int Planned) Config(Random random, string optimizer, string model)
    {
        var seed = random.Next(0, 100);
        switch (optimizer)
        {
            case "miprov2":
            {
                var auto = Choose(random, ("light", 0.45), ("medium", 0.35), ("heavy", 0.2));
                var trials = auto switch { "light" => random.Next(8, 14), "medium" => random.Next(15, 24), _ => random.Next(28, 42) };
                var minibatch = new[] { 25, 35, 50 }[random.Next(3)];
                return ($$"""{"auto":"{{auto}}","num_trials":{{trials}},"minibatch":true,"minibatch_size":{{minibatch}},"max_bootstrapped_demos":{{random.Next(2, 5)}},"max_labeled_demos":{{random.Next(2, 9)}},"num_candidates":{{random.Next(6, 16)}},"model":"{{model}}","seed":{{seed}}}""",
                    auto, trials + 1);
            }
            case "bootstrap_fewshot":
                return ($$"""{"max_bootstrapped_demos":{{random.Next(2, 6)}},"max_labeled_demos":{{random.Next(4, 17)}},"max_rounds":1,"model":"{{model}}"}""",
                    null, random.Next(2, 4));
            case "bootstrap_fewshot_random_search":
            {
                var programs = random.Next(8, 17);
                return ($$"""{"max_bootstrapped_demos":{{random.Next(2, 6)}},"max_labeled_demos":{{random.Next(4, 17)}},"num_candidate_programs":{{programs}},"num_threads":8,"model":"{{model}}"}""",
                    null, programs + 1);
            }
            case "copro":
            {
                var breadth = random.Next(4, 11);
                var depth = random.Next(2, 4);
                return ($$"""{"breadth":{{breadth}},"depth":{{depth}},"init_temperature":1.4,"model":"{{model}}"}""", null, breadth + depth);
            }
            case "gepa":
            {
                var auto = Choose(random, ("light", 0.5), ("medium", 0.35), ("heavy", 0.15));
                return ($$"""{"auto":"{{auto}}","reflection_lm":"gpt-4o","reflection_minibatch_size":3,"model":"{{model}}","seed":{{seed}}}""",
                    auto, auto switch { "light" => random.Next(12, 20), "medium" => random.Next(20, 30), _ => random.Next(30, 45) });
            }
            case "simba":
                return ($$"""{"bsize":32,"num_candidates":{{random.Next(4, 9)}},"max_steps":{{random.Next(6, 13)}},"model":"{{model}}"}""", null, random.Next(8, 16));
            default:
                return ($$"""{"strategy":"{{Choose(random, ("grid", 0.5), ("evolutionary", 0.3), ("manual", 0.2))}}","model":"{{model}}"}""", null, random.Next(4, 20));
        }
    }

    private static string[] Tags(Random random, string optimizer, string model)
    {
        var count = random.Next(1, 5);
        var tags = new HashSet<string>(StringComparer.Ordinal);
        while (tags.Count < count)
        {
            // Zipf-like: the first tags of the list are on many runs, the last ones on few.
            var rank = (int)Math.Floor(Math.Pow(random.NextDouble(), 2.2) * TagWords.Length);
            tags.Add(TagWords[Math.Min(rank, TagWords.Length - 1)]);
        }

        if (random.NextDouble() < 0.3)
        {
            tags.Add(model);
        }

        if (random.NextDouble() < 0.2)
        {
            tags.Add(optimizer);
        }

        return [.. tags];
    }

    // ───────────────────────────── iterations ─────────────────────────────

    private void BuildIterations(Random random)
    {
        // Trials as planned by each optimizer's settings, then scaled to the data set's total.
        var counts = new int[Runs.Count];
        double plannedTotal = 0;
        foreach (var run in Runs)
        {
            plannedTotal += run.Status == "pending" ? 0 : run.PlannedIterations;
        }

        var factor = IterationCount / plannedTotal;
        var total = 0;
        foreach (var run in Runs)
        {
            if (run.Status == "pending")
            {
                continue;
            }

            var planned = Math.Max(2, (int)Math.Round(run.PlannedIterations * factor));
            run.PlannedIterations = planned;
            // Runs that ended early (or are still going) have done part of their trials.
            var done = run.Status is "completed" ? planned : Math.Max(1, (int)Math.Round(planned * (0.2 + 0.75 * random.NextDouble())));
            counts[run.Index] = done;
            total += done;
        }

        // Exactly the data set's number: add to or take from random runs.
        var active = Runs.Where(r => r.Status != "pending").Select(r => r.Index).ToArray();
        while (total != IterationCount)
        {
            var index = active[random.Next(active.Length)];
            if (total < IterationCount)
            {
                counts[index]++;
                total++;
            }
            else if (counts[index] > 2)
            {
                counts[index]--;
                total--;
            }
        }

        foreach (var run in Runs)
        {
            run.FirstIteration = Iterations.Count;
            run.IterationCount = counts[run.Index];
            if (run.Status == "completed")
            {
                run.PlannedIterations = counts[run.Index];
            }
            else
            {
                run.PlannedIterations = Math.Max(run.PlannedIterations, counts[run.Index]);
            }

            AddIterations(random, run);
        }
    }

    private void AddIterations(Random random, RunSpec run)
    {
        var n = run.IterationCount;
        if (run.Status != "pending")
        {
            run.StartTime = run.CreatedAt.AddSeconds(random.Next(1, 30));
        }

        var minibatching = run.OptimizerType is "miprov2" or "gepa" or "simba";
        var clock = run.StartTime ?? run.CreatedAt;
        decimal? best = null;
        var predictors = 1 + (int)(run.Seed % 3);
        for (var t = 0; t < n; t++)
        {
            var kind = t == 0 ? "baseline" : minibatching ? (t % 5 == 0 || t == n - 1 ? "full" : "minibatch") : "full";
            var progress = n <= 1 ? 0 : (double)t / (n - 1);
            var noise = kind == "minibatch" ? 0.06 : 0.015;
            var value = t == 0 ? (double)run.Baseline : (double)run.Baseline + run.Gain * Math.Sqrt(progress) + NextGaussian(random) * noise;
            // The last trial of a run still going has started but not finished.
            var inProgress = t == n - 1 && run.Status is "running" or "stalled";
            var started = clock;
            var seconds = (kind == "minibatch" ? 20 : 90) * (0.5 + random.NextDouble());
            clock = clock.AddSeconds(seconds + random.NextDouble() * 5);
            var iteration = new IterationSpec
            {
                Run = run,
                Iteration = t,
                Kind = kind,
                Score = inProgress ? null : Round4(Math.Clamp(value, 0, 1)),
                ParamsJson = Params(random, run, predictors),
                CandidateProgramJson = kind == "full" && random.NextDouble() < 0.3
                    ? $$"""{"instructions":["{{Phrase(random, 8, 20)}}"],"demos":{{random.Next(1, 5)}}}"""
                    : null,
                StartedAt = Truncate(started),
                CompletedAt = inProgress ? null : Truncate(started.AddSeconds(seconds)),
                TraceId = random.NextDouble() < 0.5 ? Hex(random, 32) : null,
            };
            iteration.SpanId = iteration.TraceId is null ? null : Hex(random, 16);
            if (iteration.Score is { } s && kind != "minibatch")
            {
                best = best is null || s > best ? s : best;
            }

            Iterations.Add(iteration);
        }

        if (run.Status is "completed" or "failed" or "cancelled")
        {
            run.EndTime = Truncate(clock.AddSeconds(random.Next(1, 20)));
        }

        if (run.Status == "completed")
        {
            run.FinalScore = best;
            run.OptimizedProgramJson = $$$"""{"predictors":{"0":{"instruction":"{{{Phrase(random, 10, 24)}}}","demos":{{{random.Next(0, 5)}}}}},"score":{{{best?.ToString(CultureInfo.InvariantCulture) ?? "null"}}}}""";
        }
        else if (run.Status == "failed")
        {
            run.ErrorMessage = Errors[random.Next(Errors.Length)];
            run.ErrorDetailsJson = $$"""{"type":"{{run.ErrorMessage.Split(':')[0]}}","trial":{{Math.Max(0, n - 1)}}}""";
        }
    }

    private static string Params(Random random, RunSpec run, int predictors)
    {
        switch (run.OptimizerType)
        {
            case "miprov2" or "gepa" or "simba":
            {
                var sb = new StringBuilder("{\"predictors\":{");
                for (var p = 0; p < predictors; p++)
                {
                    sb.Append(p == 0 ? "" : ",").Append('"').Append(p).Append("\":{\"instruction\":").Append(random.Next(0, 8))
                        .Append(",\"demos\":").Append(random.Next(0, 6)).Append('}');
                }

                return sb.Append("}}").ToString();
            }
            case "bootstrap_fewshot_random_search":
                return $$"""{"candidate_program":{{random.Next(0, 16)}},"seed":{{random.Next(-3, 16)}}}""";
            case "copro":
                return $$"""{"breadth_index":{{random.Next(0, 10)}},"depth":{{random.Next(0, 3)}},"temperature":1.4}""";
            default:
                return "{}";
        }
    }

    // ───────────────────────────── samples ─────────────────────────────

    private void BuildSampleCounts(Random random)
    {
        // Full evaluations and baselines see the whole dev set, minibatch trials a few examples.
        var weights = new double[Iterations.Count];
        double sum = 0;
        for (var i = 0; i < Iterations.Count; i++)
        {
            var it = Iterations[i];
            weights[i] = it.Run.SampleWeight * (it.Kind == "minibatch" ? 1.0 : 6.0) * (0.8 + 0.4 * random.NextDouble());
            sum += weights[i];
        }

        long total = 0;
        for (var i = 0; i < Iterations.Count; i++)
        {
            Iterations[i].Samples = Math.Max(1, (int)Math.Round(weights[i] / sum * SampleCount));
            total += Iterations[i].Samples;
        }

        while (total != SampleCount)
        {
            var it = Iterations[random.Next(Iterations.Count)];
            if (total < SampleCount)
            {
                it.Samples++;
                total++;
            }
            else if (it.Samples > 1)
            {
                it.Samples--;
                total--;
            }
        }
    }

    private void SumAggregates()
    {
        foreach (var it in Iterations)
        {
            double latency = 0;
            for (var k = 0; k < it.Samples; k++)
            {
                var f = Facts(it, k);
                it.Successful += f.Success ? 1 : 0;
                it.Failed += f.Success ? 0 : 1;
                it.PromptTokens += f.PromptTokens;
                it.CompletionTokens += f.CompletionTokens;
                it.CostUsd += f.CostUsd;
                latency += f.LatencyMs;
            }

            it.AvgLatencyMs = it.Samples > 0 ? Math.Round(latency / it.Samples, 1) : null;
            var run = it.Run;
            run.SamplesEvaluated += it.Samples;
            run.SamplesSuccessful += it.Successful;
            run.SamplesFailed += it.Failed;
            run.PromptTokens += it.PromptTokens;
            run.CompletionTokens += it.CompletionTokens;
            run.CostUsd += it.CostUsd;
            run.LatencySum += latency;
        }
    }

    /// <summary>The numbers of sample <paramref name="index"/> of an iteration: a pure function of its key.</summary>
    public static SampleFacts Facts(IterationSpec it, int index)
    {
        var run = it.Run;
        var h = Mix(run.Seed ^ ((ulong)(uint)it.Iteration << 32 | (uint)index));
        var h2 = Mix(h);
        var success = h % 1000 >= 25;
        var target = (double)(it.Score ?? run.Baseline);
        var u = (h2 & 0xFFFF) / 65536.0;
        decimal? score = !success ? 0m
            : run.ExactMetric ? (u < target ? 1m : 0m)
            : Round4(Math.Clamp(target + (u - 0.5) * 0.6, 0, 1));
        var prompt = 250 + (int)(h2 >> 16 & 0x3FF) + (index % 7) * 40;
        var completion = 20 + (int)(h2 >> 26 & 0xC7);
        var cost = Math.Round((prompt * run.PriceIn + completion * run.PriceOut) / 1_000_000m, 6);
        var latency = Math.Round(250 + (h2 >> 34 & 0xFFF) * 0.9 + (h >> 40 & 0x3FF), 1);
        return new SampleFacts(h, h2, success, score, latency, prompt, completion, cost);
    }

    /// <summary>The example a sample evaluates (the same dev-set example across a run's trials).</summary>
    public int ExampleOf(IterationSpec it, int index) => (int)((it.Run.Seed % 1_000 + (ulong)index * 7_919) % Examples);

    public string InputsJson(int example) => _inputs[example];

    public string ExpectedJson(int example) => $$"""{"answer":"{{_answers[example]}}"}""";

    /// <summary>The prediction of a sample: the right answer when it scored, another example's otherwise.</summary>
    public string PredictionJson(SampleFacts f, int example)
    {
        var answer = f.Score is > 0.5m ? _answers[example] : _answers[(int)(f.Hash2 % Examples)];
        return $$"""{"reasoning":"{{_reasonings[(int)(f.Hash % Reasonings)]}}","answer":"{{answer}}"}""";
    }

    public static string ErrorText(SampleFacts f) => Errors[(int)(f.Hash2 % (ulong)Errors.Length)];

    private void BuildText(Random random)
    {
        for (var i = 0; i < Examples; i++)
        {
            var question = Phrase(random, 7, 18) + "?";
            var context = Phrase(random, 14, 34);
            _inputs[i] = $$"""{"question":"{{question}}","context":"{{context}}"}""";
            _answers[i] = Phrase(random, 1, 5);
        }

        for (var i = 0; i < Reasonings; i++)
        {
            _reasonings[i] = Phrase(random, 9, 24) + ".";
        }
    }

    // ───────────────────────────── helpers ─────────────────────────────

    private static string Phrase(Random random, int minWords, int maxWords)
    {
        var n = random.Next(minWords, maxWords + 1);
        var sb = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            sb.Append(i == 0 ? "" : " ").Append(Words[random.Next(Words.Length)]);
        }

        return sb.ToString();
    }

    public static string Hex(ulong a, ulong b, int length)
    {
        var text = a.ToString("x16", CultureInfo.InvariantCulture) + b.ToString("x16", CultureInfo.InvariantCulture);
        return text[..length];
    }

    private static string Hex(Random random, int length) => Hex((ulong)random.NextInt64(), (ulong)random.NextInt64(), length);

    private static string Short(string optimizer) => optimizer switch
    {
        "bootstrap_fewshot" => "bfs",
        "bootstrap_fewshot_random_search" => "bfsrs",
        _ => optimizer,
    };

    private static int Pick(Random random, double[] weights)
    {
        var x = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private static string Choose(Random random, params (string Value, double Weight)[] options) =>
        options[Pick(random, options.Select(o => o.Weight).ToArray())].Value;

    private static double NextGaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static decimal Round4(double value) => Math.Round((decimal)value, 4);

    // PostgreSQL keeps microseconds: round-trip-exact times compare equal in keyset pages.
    private static DateTime Truncate(DateTime t) => new(t.Ticks - t.Ticks % 10, DateTimeKind.Utc);

    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>One generated run; the aggregates are the sums of its generated samples.</summary>
public sealed class RunSpec
{
    public int Index { get; set; }
    public ulong Seed { get; init; }
    public Guid Id { get; init; }
    public int Project { get; init; }
    public Guid ProjectId { get; init; }
    public required string RunName { get; init; }
    public string? Description { get; init; }
    public required string OptimizerType { get; init; }
    public required string Status { get; init; }
    public string? CreatedBy { get; init; }
    public required string ConfigJson { get; init; }
    public required string MetadataJson { get; init; }
    public required string[] Tags { get; init; }
    public required string ProgramName { get; init; }
    public required string DatasetName { get; init; }
    public required string MetricName { get; init; }
    public bool ExactMetric { get; init; }
    public required string TaskModel { get; init; }
    public required string PromptModel { get; init; }
    public decimal PriceIn { get; init; }
    public decimal PriceOut { get; init; }
    public int PlannedIterations { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartTime { get; set; }
    public DateTime? EndTime { get; set; }
    public decimal Baseline { get; init; }
    public double Gain { get; init; }
    public double SampleWeight { get; init; }
    public decimal? FinalScore { get; set; }
    public string? OptimizedProgramJson { get; set; }
    public string? ErrorMessage { get; set; }
    public string? ErrorDetailsJson { get; set; }
    public int FirstIteration { get; set; }
    public int IterationCount { get; set; }
    public long SamplesEvaluated { get; set; }
    public long SamplesSuccessful { get; set; }
    public long SamplesFailed { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public decimal CostUsd { get; set; }
    public double LatencySum { get; set; }
    public double? AvgLatencyMs => SamplesEvaluated > 0 ? Math.Round(LatencySum / SamplesEvaluated, 1) : null;
}

/// <summary>One generated iteration (trial); the sample counts and sums are those of its generated samples.</summary>
public sealed class IterationSpec
{
    public required RunSpec Run { get; init; }
    public int Iteration { get; init; }
    public required string Kind { get; init; }
    public decimal? Score { get; init; }
    public required string ParamsJson { get; init; }
    public string? CandidateProgramJson { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? CompletedAt { get; init; }
    public string? TraceId { get; init; }
    public string? SpanId { get; set; }
    public int Samples { get; set; }
    public int Successful { get; set; }
    public int Failed { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public decimal CostUsd { get; set; }
    public double? AvgLatencyMs { get; set; }
}

/// <summary>A sample's numbers, from the hash of its key.</summary>
public readonly record struct SampleFacts(
    ulong Hash, ulong Hash2, bool Success, decimal? Score, double LatencyMs, int PromptTokens, int CompletionTokens, decimal CostUsd);
