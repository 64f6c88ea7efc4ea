using Dapper;
using Npgsql;

namespace OptimizationRuns.Bench.Queries;

/// <summary>One request of a pattern, with its parameters; every layer answers it its own way.</summary>
public sealed record Call(
    string Pattern,
    int Project,
    Guid RunId = default,
    int Iteration = 0,
    string? Status = null,
    string? OptimizerType = null,
    string[]? Tags = null,
    string? ConfigJson = null);

/// <summary>
/// What the requests are about: the projects and their keys, and the runs and iterations as loaded (read back from
/// the database, so <c>--skip-load</c> works on a kept database). Hands out the parameters of each pattern's calls,
/// varied so no two consecutive requests read the same rows.
/// </summary>
public sealed class Scenario
{
    /// <summary>The patterns the issue names, in report order, with their p95 targets (ms).</summary>
    public static readonly (string Name, double P95Target)[] Patterns =
    [
        ("list_page", 5), ("status_filter", 5), ("optimizer_filter", 5), ("tag_filter", 5), ("config_search", 10),
        ("leaderboard", 5), ("run_iterations", 5), ("samples_page", 10), ("analytics", 5), ("live_snapshot", 5),
    ];

    /// <summary>Diagnostic patterns: not targets, they split a request's time into its parts.</summary>
    public static readonly string[] Diagnostics = ["run_iterations_warm", "activation_reads", "http_floor", "auth_hop"];

    /// <summary>The live snapshot's p99 target (ms).</summary>
    public const double LiveSnapshotP99Target = 5;

    private static readonly string[] Statuses = ["pending", "running", "stalled", "completed", "failed", "cancelled"];

    private static readonly string[] Optimizers =
        ["miprov2", "bootstrap_fewshot", "bootstrap_fewshot_random_search", "copro", "gepa", "simba", "custom"];

    // Containment searches from common ({"auto":"light"}: ~1 run in 6) to rare (a model and a setting together).
    private static readonly string[] Configs =
    [
        """{"auto":"light"}""", """{"auto":"heavy"}""", """{"model":"claude-3-5-sonnet"}""", """{"minibatch_size":50}""",
        """{"auto":"medium","model":"gpt-4o-mini"}""", """{"max_rounds":1}""", """{"strategy":"evolutionary"}""",
        """{"reflection_lm":"gpt-4o","auto":"heavy"}""", """{"model":"llama-3.1-8b","auto":"heavy"}""", """{"breadth":7,"depth":3}""",
        """{"num_trials":20}""", """{"model":"gemini-1.5-flash","max_bootstrapped_demos":4}""",
    ];

    private readonly Random _random;
    private readonly List<RunRef>[] _runsByProject;
    private readonly List<RunRef> _runsWithSamples;
    private readonly Dictionary<string, Queue<RunRef>> _coldRuns = [];
    private readonly Dictionary<string, int> _coldReserved = [];
    private readonly string[] _tags;

    private Scenario(IReadOnlyList<Guid> projects, List<RunRef> runs, string[] tags, int seed)
    {
        _random = new Random(seed);
        Projects = projects;
        Runs = runs;
        _tags = tags;
        _runsByProject = projects.Select(p => runs.Where(r => r.ProjectId == p).ToList()).ToArray();
        _runsWithSamples = runs.Where(r => r.SampledIterations.Length > 0).ToList();
        // Live runs: running ones, most recent first, a few per project (a dashboard watches a handful).
        LiveRuns = runs.Where(r => r.Status == "running").OrderByDescending(r => r.CreatedAt)
            .GroupBy(r => r.ProjectId).SelectMany(g => g.Take(8)).ToList();
        var untouched = runs.Except(LiveRuns).OrderBy(_ => _random.Next()).ToList();
        WarmRuns = untouched.Take(64).ToList();
        Untouched = untouched.Skip(64).ToList();
    }

    public IReadOnlyList<Guid> Projects { get; }

    public IReadOnlyList<RunRef> Runs { get; }

    /// <summary>Running runs whose grains the benchmark keeps active (heartbeat, then reads).</summary>
    public IReadOnlyList<RunRef> LiveRuns { get; }

    /// <summary>Runs whose grains are activated during the warm-up, for <c>run_iterations_warm</c>.</summary>
    public IReadOnlyList<RunRef> WarmRuns { get; }

    private List<RunRef> Untouched { get; }

    /// <summary>
    /// The data set's projects: bench/run-analysis.sh and bench/ingest.sh, given a kept database, add projects of
    /// their own (named bench-…), which the read patterns leave out.
    /// </summary>
    public const string DataSetProjects = $"SELECT id FROM project_config WHERE {DataSetProject} ORDER BY created_at, id";

    private const string DataSetProject = "name NOT LIKE 'bench-%'";

    public static async Task<Scenario> ReadAsync(NpgsqlDataSource owner, int seed, CancellationToken cancellationToken)
    {
        await using var connection = await owner.OpenConnectionAsync(cancellationToken);
        var projects = (await connection.QueryAsync<Guid>(new CommandDefinition(
            DataSetProjects, cancellationToken: cancellationToken))).ToList();
        var runs = (await connection.QueryAsync<RunRef>(new CommandDefinition($$"""
            SELECT r.id, r.project_id, r.status, r.created_at,
                   COALESCE((SELECT array_agg(i.iteration ORDER BY i.iteration) FROM optimization_iterations i
                             WHERE i.run_id = r.id AND i.samples_evaluated > 0), '{}') AS sampled_iterations
            FROM optimization_runs r WHERE r.project_id IN (SELECT id FROM project_config WHERE {{DataSetProject}})
            ORDER BY r.created_at
            """, commandTimeout: 300, cancellationToken: cancellationToken))).ToList();
        var tags = (await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT tag FROM optimization_runs, unnest(tags) AS tag GROUP BY tag HAVING count(*) >= 5 ORDER BY count(*) DESC
            """, cancellationToken: cancellationToken))).ToArray();
        if (projects.Count == 0 || runs.Count == 0)
        {
            throw new InvalidOperationException("The database holds no data set: load one first (without --skip-load).");
        }

        return new Scenario(projects, runs, tags, seed);
    }

    /// <summary>Gives each grain-touching layer its own never-read runs, so a cold read in one is not warmed by another.</summary>
    public void ReserveColdRuns(IEnumerable<(string Layer, int Count)> layers)
    {
        var offset = 0;
        foreach (var (layer, perLayer) in layers)
        {
            var take = Math.Min(perLayer, Math.Max(0, Untouched.Count - offset));
            _coldRuns[layer] = new Queue<RunRef>(Untouched.Skip(offset).Take(take));
            _coldReserved[layer] = take;
            offset += take;
        }
    }

    /// <summary>The next call of <paramref name="pattern"/> for <paramref name="layer"/>.</summary>
    public Call Next(string pattern, string layer)
    {
        lock (_random)
        {
            var project = _random.Next(Projects.Count);
            switch (pattern)
            {
                case "status_filter":
                    return new Call(pattern, project, Status: Statuses[_random.Next(Statuses.Length)]);
                case "optimizer_filter":
                    return new Call(pattern, project, OptimizerType: Optimizers[_random.Next(Optimizers.Length)]);
                case "tag_filter":
                {
                    // One tag mostly, sometimes two: the second often makes the match rare.
                    var first = _tags[(int)(Math.Pow(_random.NextDouble(), 1.5) * _tags.Length)];
                    var second = _tags[_random.Next(_tags.Length)];
                    return new Call(pattern, project, Tags: _random.NextDouble() < 0.65 || first == second ? [first] : [first, second]);
                }
                case "config_search":
                    return new Call(pattern, project, ConfigJson: Configs[_random.Next(Configs.Length)]);
                case "leaderboard":
                    return new Call(pattern, project, OptimizerType: _random.NextDouble() < 0.5 ? null : Optimizers[_random.Next(Optimizers.Length)]);
                case "run_iterations":
                {
                    var run = _coldRuns.TryGetValue(layer, out var cold) && cold.Count > 0
                        ? cold.Dequeue()
                        : Pick(_runsByProject[project]) ?? Runs[_random.Next(Runs.Count)];
                    return new Call(pattern, ProjectOf(run), run.Id);
                }
                case "activation_reads":
                {
                    var run = Runs[_random.Next(Runs.Count)];
                    return new Call(pattern, ProjectOf(run), run.Id);
                }
                case "run_iterations_warm":
                {
                    var run = WarmRuns[_random.Next(WarmRuns.Count)];
                    return new Call(pattern, ProjectOf(run), run.Id);
                }
                case "samples_page":
                {
                    var run = _runsWithSamples[_random.Next(_runsWithSamples.Count)];
                    return new Call(pattern, ProjectOf(run), run.Id, run.SampledIterations[_random.Next(run.SampledIterations.Length)]);
                }
                case "live_snapshot":
                {
                    var run = LiveRuns[_random.Next(LiveRuns.Count)];
                    return new Call(pattern, ProjectOf(run), run.Id);
                }
                default:
                    return new Call(pattern, project);
            }
        }
    }

    /// <summary>How many never-read runs were reserved for a layer (one per cold read).</summary>
    public int ColdReads(string layer) => _coldReserved.GetValueOrDefault(layer);

    public int ProjectOf(RunRef run)
    {
        for (var i = 0; i < Projects.Count; i++)
        {
            if (Projects[i] == run.ProjectId)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Run {run.Id} belongs to no known project.");
    }

    private RunRef? Pick(List<RunRef> runs) => runs.Count == 0 ? null : runs[_random.Next(runs.Count)];
}

/// <summary>A loaded run, as the benchmark needs to know it.</summary>
public sealed class RunRef
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public string Status { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public int[] SampledIterations { get; set; } = [];
}
