using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using OptimizationRuns.Silo.Migrations;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>
/// A migrated scratch database holding a realistically sized, deterministic data set: three busy projects
/// with 30,000 runs (varied status, optimizer, tags, config, metadata), 1,000 runs of 30 trials and one of 400,
/// 200,000 evaluated examples, and 1,000 small tenants with a few runs and keys each. Analysed, analytics refreshed.
/// </summary>
public sealed class IndexUsageDatabase : IAsyncLifetime
{
    private const string LoadSql = """
        SELECT setseed(0.42);

        INSERT INTO project_config (id, name) VALUES (@busy0, 'busy-0'), (@busy1, 'busy-1'), (@busy2, 'busy-2');
        INSERT INTO project_config (id, name) SELECT gen_random_uuid(), 'tenant-' || n FROM generate_series(1, 1000) n;
        INSERT INTO project_api_keys (project_id, name, prefix, key_hash)
        SELECT p.id, 'key-' || k, 'ork_' || k, sha256((p.id::text || k)::bytea)
        FROM project_config p CROSS JOIN generate_series(1, 2) k;

        -- Most runs have ended; about one in ten is running. Names read like 'hotpotqa-miprov2-medium-01234'.
        INSERT INTO optimization_runs (project_id, run_name, optimizer_type, status, config, metadata, tags, dataset_name,
            baseline_score, best_score, final_score, prompt_tokens, completion_tokens, cost_usd, start_time, end_time, created_at)
        SELECT (ARRAY[@busy0, @busy1, @busy2])[1 + i % 3],
               format('%s-%s-%s-%s', ds, opt, auto, lpad(i::text, 5, '0')), opt, st,
               jsonb_build_object('auto', auto, 'num_trials', 10 + i % 41, 'minibatch_size', 25 + (i % 4) * 10,
                                  'seed', i % 100, 'metric', 'exact_match'),
               jsonb_build_object('git_sha', substr(md5(i::text), 1, 7), 'owner', 'user' || (i % 50)),
               ARRAY[(ARRAY['qa', 'rag', 'summarization', 'classification', 'extraction', 'agents'])[1 + i % 6],
                     (ARRAY['gpt-4o-mini', 'gpt-4o', 'claude-sonnet', 'llama-3-70b', 'mistral-large'])[1 + (i / 6) % 5]]
                 || CASE WHEN i % 97 = 0 THEN ARRAY['prod'] ELSE ARRAY[]::text[] END,
               ds, base,
               CASE WHEN st <> 'pending' THEN LEAST(1, base + gain) END,
               CASE WHEN st = 'completed' THEN LEAST(1, base + gain * 0.9) END,
               (random() * 5e6)::bigint, (random() * 5e5)::bigint, round((random() * 20)::numeric, 4),
               CASE WHEN st <> 'pending' THEN created END,
               CASE WHEN st IN ('completed', 'failed', 'cancelled') THEN created + interval '1 hour' * random() END,
               created
        FROM (
            SELECT i,
                   (ARRAY['hotpotqa', 'gsm8k', 'math', 'hover', 'ifeval', 'scone', 'bigbench', 'triviaqa', 'nq', 'fever'])[1 + i % 10] AS ds,
                   (ARRAY['miprov2', 'miprov2', 'miprov2', 'miprov2', 'bootstrap_fewshot', 'bootstrap_fewshot_random_search',
                          'copro', 'gepa', 'simba', 'custom'])[1 + (i / 10) % 10] AS opt,
                   (ARRAY['light', 'medium', 'heavy'])[1 + i % 3] AS auto,
                   (ARRAY['completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'completed',
                          'completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'failed', 'failed',
                          'cancelled', 'running', 'running', 'stalled', 'pending'])[1 + (i * 7) % 20] AS st,
                   round((0.2 + random() * 0.4)::numeric, 4) AS base,
                   round((random() * 0.3)::numeric, 4) AS gain,
                   now() - interval '5 minutes' * (30000 - i) AS created
            FROM generate_series(1, 30000) i) r;

        INSERT INTO optimization_runs (project_id, run_name, optimizer_type, status, baseline_score, final_score, created_at)
        SELECT p.id, 'tenant-run-' || k, (ARRAY['miprov2', 'gepa', 'copro'])[k], 'completed', 0.4, 0.5 + k * 0.1, now() - interval '1 day' * k
        FROM project_config p CROSS JOIN generate_series(1, 3) k
        WHERE p.name LIKE 'tenant-%';

        -- The newest 1,000 started runs have 30 trials each: a baseline, a full evaluation every fifth, minibatches.
        -- The roll-up trigger is off for this one bulk load, so the runs keep the scores they were given; is_best is
        -- set in one statement below.
        CREATE TEMP TABLE traced ON COMMIT DROP AS
        SELECT id, project_id, row_number() OVER (ORDER BY created_at DESC) AS rn
        FROM optimization_runs
        WHERE project_id IN (@busy0, @busy1, @busy2) AND status <> 'pending'
        ORDER BY created_at DESC LIMIT 1000;

        ALTER TABLE optimization_iterations DISABLE TRIGGER optimization_iterations_inserted;
        INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, params, score,
            samples_evaluated, samples_successful, samples_failed, started_at, completed_at)
        SELECT t.id, t.project_id, k,
               CASE WHEN k = 0 THEN 'baseline' WHEN k % 5 = 0 THEN 'full' ELSE 'minibatch' END,
               jsonb_build_object('predictors', jsonb_build_object('0', jsonb_build_object('instruction', k % 7, 'demos', k % 5))),
               round((0.3 + random() * 0.6)::numeric, 4),
               CASE WHEN k % 5 = 0 THEN 300 ELSE 35 END, CASE WHEN k % 5 = 0 THEN 290 ELSE 34 END, CASE WHEN k % 5 = 0 THEN 10 ELSE 1 END,
               now() - interval '1 hour' + interval '1 minute' * k, now() - interval '1 hour' + interval '1 minute' * k + interval '40 seconds'
        FROM traced t CROSS JOIN generate_series(0, 29) k;
        -- One long run, the oldest of the busiest project: 400 trials choosing among 12 instructions for 3 predictors.
        INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, params, score,
            samples_evaluated, samples_successful, samples_failed, started_at, completed_at)
        SELECT r.id, r.project_id, k,
               CASE WHEN k = 0 THEN 'baseline' WHEN k % 10 = 0 THEN 'full' ELSE 'minibatch' END,
               jsonb_build_object('predictors', jsonb_build_object(
                   '0', jsonb_build_object('instruction', k % 12, 'demos', k % 8),
                   '1', jsonb_build_object('instruction', (k / 12) % 12, 'demos', (k / 8) % 8),
                   '2', jsonb_build_object('instruction', (k / 144) % 12, 'demos', k % 3))),
               round((0.3 + random() * 0.6)::numeric, 4), 35, 34, 1,
               now() - interval '1 day' + interval '1 minute' * k, now() - interval '1 day' + interval '1 minute' * k + interval '40 seconds'
        FROM (SELECT id, project_id FROM optimization_runs WHERE project_id = @busy0 ORDER BY created_at LIMIT 1) r
        CROSS JOIN generate_series(0, 399) k;
        ALTER TABLE optimization_iterations ENABLE TRIGGER optimization_iterations_inserted;
        UPDATE optimization_iterations i SET is_best = true
        FROM (SELECT DISTINCT ON (run_id) run_id, iteration FROM optimization_iterations
              WHERE kind IN ('baseline', 'full') ORDER BY run_id, score DESC, iteration) best
        WHERE i.run_id = best.run_id AND i.iteration = best.iteration;

        -- 100 runs × 20 trials × 100 examples; nine in ten carry the id of their trace.
        INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, example_id, inputs, expected, prediction,
            score, success, latency_ms, prompt_tokens, completion_tokens, cost_usd, trace_id, span_id)
        SELECT t.id, t.project_id, k, s, 'ex-' || s,
               jsonb_build_object('question', 'question ' || s), jsonb_build_object('answer', 'answer ' || s),
               jsonb_build_object('answer', 'prediction ' || s),
               (s % 3 > 0)::int, s % 50 <> 0, 200 + random() * 1500, 512, 64, 0.0004,
               CASE WHEN s % 10 <> 0 THEN md5(t.id::text || k || '/' || s) END,
               CASE WHEN s % 10 <> 0 THEN substr(md5(s::text), 1, 16) END
        FROM traced t CROSS JOIN generate_series(0, 19) k CROSS JOIN generate_series(0, 99) s
        WHERE t.rn <= 100;

        SELECT refresh_run_analytics();
        """;

    private ScratchDatabase? _database;

    /// <summary>The busiest project: every query below asks for its rows.</summary>
    public Guid ProjectId { get; } = Guid.NewGuid();

    /// <summary>A run of <see cref="ProjectId"/> with trials and samples.</summary>
    public Guid RunId { get; private set; }

    /// <summary>A run of <see cref="ProjectId"/> with 400 trials.</summary>
    public Guid LongRunId { get; private set; }

    public string TraceId { get; private set; } = "";

    public byte[] KeyHash { get; private set; } = [];

    public ScratchDatabase Database => _database ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync();
        await new Migrator(_database.OwnerConnectionString, MigrationCatalog.Load(), NullLogger.Instance).UpAsync(CancellationToken.None);

        await using var connection = await _database.OpenOwnerAsync();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync(new CommandDefinition(LoadSql,
                new { busy0 = ProjectId, busy1 = Guid.NewGuid(), busy2 = Guid.NewGuid() }, transaction, commandTimeout: 300));
            await transaction.CommitAsync();
        }

        await connection.ExecuteAsync(
            "VACUUM (ANALYZE) project_config, project_api_keys, optimization_runs, optimization_iterations, optimization_samples, optimization_run_analytics");

        (RunId, TraceId) = await connection.QueryFirstAsync<(Guid, string)>(
            "SELECT run_id, trace_id FROM optimization_samples WHERE project_id = @ProjectId AND iteration = 7 AND trace_id IS NOT NULL LIMIT 1",
            new { ProjectId });
        LongRunId = await connection.QuerySingleAsync<Guid>(
            "SELECT run_id FROM optimization_iterations WHERE project_id = @ProjectId GROUP BY run_id HAVING count(*) = 400", new { ProjectId });
        KeyHash = await connection.QueryFirstAsync<byte[]>("SELECT key_hash FROM project_api_keys WHERE project_id = @ProjectId", new { ProjectId });
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
