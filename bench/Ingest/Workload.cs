using System.Text;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Bench.Ingest;

/// <summary>
/// The rows the benchmark writes, the same for the grain rounds and the raw COPY rounds: realistic
/// HotpotQA-like samples of a chosen size, keyed so that every (run, iteration, sample index) is unique.
/// </summary>
/// <remarks>
/// Worker <c>k</c> of a run sends batch <c>b</c> as iteration <c>b / I</c> (I = iteration-every) with sample
/// indexes <c>(k·I + b mod I)·B + j</c>, so the workers of one run never collide and a run's iteration
/// closes after its workers' I-th batch. Inputs and the expected answer belong to the example (they repeat
/// across iterations, as a dev set does); prediction, score, latency, tokens and trace ids vary per row.
/// </remarks>
public sealed class Workload
{
    private const int Examples = 1_000;
    private const int Predictions = 4_096;
    private const string ErrorText = "litellm.Timeout: APITimeoutError - Request timed out after 30.0 seconds";

    private static readonly string[] Words =
    [
        "the", "film", "director", "born", "which", "album", "released", "river", "city", "county", "population",
        "founded", "university", "author", "novel", "band", "singer", "team", "league", "season", "station", "railway",
        "company", "headquarters", "american", "british", "french", "war", "battle", "king", "queen", "empire", "island",
        "mountain", "lake", "capital", "state", "district", "church", "museum", "award", "won", "nominated", "series",
        "television", "episode", "character", "played", "role", "actor", "actress", "published", "magazine", "newspaper",
        "game", "developed", "designed", "built", "century", "year", "first", "second", "largest", "oldest", "named",
        "after", "known", "as", "also", "both", "same", "country", "older", "younger", "who", "what", "when", "where",
    ];

    private readonly string[] _inputs = new string[Examples];
    private readonly string[] _expected = new string[Examples];
    private readonly string[] _predictions = new string[Predictions];

    public Workload(int payloadBytes, int batch, int iterationEvery)
    {
        Batch = batch;
        IterationEvery = iterationEvery;
        // What a sample weighs as sent besides its JSON: example id (17), trace (32) and span (16) ids,
        // and the fixed-width numbers (iteration, index, score, success, latency, tokens, cost: ~41).
        const int fixedBytes = 17 + 32 + 16 + 41;
        var json = Math.Max(payloadBytes - fixedBytes, 90);
        var inputs = json * 55 / 100;
        var expected = json * 12 / 100;
        var prediction = json - inputs - expected;
        var random = new Random(20_260_101);
        for (var i = 0; i < Examples; i++)
        {
            var question = Text(random, (inputs - 27) * 2 / 5);
            var context = Text(random, inputs - 27 - question.Length);
            _inputs[i] = $$"""{"question":"{{question}}","context":"{{context}}"}""";
            _expected[i] = $$"""{"answer":"{{Text(random, expected - 14)}}"}""";
        }

        for (var i = 0; i < Predictions; i++)
        {
            var answer = Text(random, Math.Max((prediction - 29) / 5, 3));
            _predictions[i] = $$"""{"reasoning":"{{Text(random, prediction - 29 - answer.Length)}}","answer":"{{answer}}"}""";
        }

        PayloadBytes = (int)Math.Round(_inputs.Average(s => s.Length) + _expected.Average(s => s.Length)
            + _predictions.Average(s => s.Length) + fixedBytes);
    }

    public int Batch { get; }

    public int IterationEvery { get; }

    /// <summary>The average size of a generated sample, as defined by --payload-bytes.</summary>
    public int PayloadBytes { get; }

    /// <summary>The iteration of a worker's batch.</summary>
    public int IterationOf(int batchNumber) => batchNumber / IterationEvery;

    /// <summary>Whether the worker's batch is the last of its iteration.</summary>
    public bool ClosesIteration(int batchNumber) => batchNumber % IterationEvery == IterationEvery - 1;

    /// <summary>The samples of worker <paramref name="worker"/> (of its run) in its batch <paramref name="batchNumber"/>.</summary>
    public List<SampleRecord> Samples(ulong runSeed, int worker, int batchNumber)
    {
        var iteration = IterationOf(batchNumber);
        var first = (worker * IterationEvery + batchNumber % IterationEvery) * Batch;
        var samples = new List<SampleRecord>(Batch);
        for (var j = 0; j < Batch; j++)
        {
            samples.Add(Sample(runSeed, iteration, first + j));
        }

        return samples;
    }

    /// <summary>The record that closes an iteration: baseline first, a full evaluation every fifth, else a minibatch.</summary>
    public IterationRecord Iteration(ulong runSeed, int iteration, int workersOfRun)
    {
        var h = Mix(runSeed ^ (ulong)iteration * 0x9E3779B97F4A7C15UL);
        var kind = iteration == 0 ? IterationKind.Baseline : iteration % 5 == 4 ? IterationKind.Full : IterationKind.Minibatch;
        var evaluated = workersOfRun * IterationEvery * Batch;
        var failed = evaluated / 50;
        return new IterationRecord(
            iteration, kind, Score: 0.35m + (h % 4_000) / 10_000m,
            ParamsJson: "{\"predictors\":{\"0\":{\"instruction\":" + h % 7 + ",\"demos\":" + (h >> 8) % 5 + "}}}",
            SamplesEvaluated: evaluated, SamplesSuccessful: evaluated - failed, SamplesFailed: failed,
            PromptTokens: evaluated * 600L, CompletionTokens: evaluated * 70L, CostUsd: evaluated * 0.000132m,
            StartedAt: DateTimeOffset.UtcNow.AddSeconds(-40), CompletedAt: DateTimeOffset.UtcNow);
    }

    /// <summary>A seed per run, so trace ids differ between runs while sizes stay the same.</summary>
    public static ulong Seed(Guid runId)
    {
        Span<byte> bytes = stackalloc byte[16];
        runId.TryWriteBytes(bytes);
        return BitConverter.ToUInt64(bytes) ^ BitConverter.ToUInt64(bytes[8..]);
    }

    private SampleRecord Sample(ulong runSeed, int iteration, int sampleIndex)
    {
        var h = Mix(runSeed ^ ((ulong)iteration << 32 | (uint)sampleIndex));
        var h2 = Mix(h);
        var example = (int)((uint)sampleIndex % Examples);
        var success = h % 50 != 0;
        var promptTokens = 420 + (int)((h >> 8) % 380);
        var completionTokens = 24 + (int)((h >> 20) % 96);
        return new SampleRecord(
            iteration, sampleIndex,
            ExampleId: $"hotpotqa-dev-{example:D4}",
            InputsJson: _inputs[example],
            ExpectedJson: _expected[example],
            PredictionJson: _predictions[h2 % Predictions],
            Score: success ? ((h >> 32) % 3 == 0 ? (h >> 34) % 10_001 / 10_000m : (h >> 40) % 5 < 3 ? 1m : 0m) : 0m,
            Success: success,
            Error: success ? null : ErrorText,
            LatencyMs: 180 + (h >> 12) % 2_400 + (h >> 50) % 10 / 10.0,
            PromptTokens: promptTokens,
            CompletionTokens: completionTokens,
            CostUsd: Math.Round((promptTokens * 0.15m + completionTokens * 0.6m) / 1_000_000m, 6),
            TraceId: $"{h2:x16}{Mix(h2):x16}",
            SpanId: $"{Mix(h2 ^ 0x5555):x16}");
    }

    private static string Text(Random random, int length)
    {
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(Words[random.Next(Words.Length)]);
        }

        return text.ToString(0, Math.Max(length, 1)).TrimEnd().PadRight(Math.Max(length, 1), 'x');
    }

    // SplitMix64: cheap, well-mixed, deterministic.
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
