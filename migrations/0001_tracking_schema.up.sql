-- 0001 — the tracking schema: projects and API keys, runs, iterations, samples,
-- triggers, helper functions, the analytics materialized view, and row-level security.
--
-- Roles (created outside migrations, see scripts/lib.sh):
--   the migration role owns every object here and bypasses RLS as owner: it is the admin path;
--   optruns_service is what the silo connects as: it owns nothing, RLS applies to it, and it
--   reaches cross-project data only through the SECURITY DEFINER functions named below.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The project of the current transaction, set with set_config('app.project_id', …, true).
-- NULL when unset, so every policy below then matches nothing.
CREATE FUNCTION app_current_project() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NULLIF(current_setting('app.project_id', true), '')::uuid
$$;

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- ───────────────────────────── projects and API keys ─────────────────────────────

CREATE TABLE project_config (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    settings    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE project_api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid NOT NULL REFERENCES project_config (id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    -- The first characters of the key, so people can tell keys apart; the key itself is never stored.
    prefix        text NOT NULL CHECK (length(prefix) BETWEEN 4 AND 32),
    key_hash      bytea NOT NULL CHECK (length(key_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
-- Serves: authenticate_api_key(hash) on every request whose key is not cached.
CREATE UNIQUE INDEX project_api_keys_key_hash_uq ON project_api_keys (key_hash);
COMMENT ON INDEX project_api_keys_key_hash_uq IS 'authenticate_api_key: key hash → project';
-- Serves: listing a project's keys; the FK's cascade from project_config.
CREATE INDEX project_api_keys_project_idx ON project_api_keys (project_id, created_at);
COMMENT ON INDEX project_api_keys_project_idx IS 'keys of a project; cascade delete from project_config';

-- ───────────────────────────── runs ─────────────────────────────

CREATE TABLE optimization_runs (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id            uuid NOT NULL REFERENCES project_config (id) ON DELETE CASCADE,
    -- identity
    run_name              text NOT NULL CHECK (length(run_name) BETWEEN 1 AND 200),
    description           text CHECK (length(description) <= 4000),
    optimizer_type        text NOT NULL CHECK (optimizer_type IN ('miprov2', 'bootstrap_fewshot',
                              'bootstrap_fewshot_random_search', 'copro', 'gepa', 'simba', 'custom')),
    status                text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running',
                              'stalled', 'completed', 'failed', 'cancelled')),
    created_by            text CHECK (length(created_by) <= 200),
    -- configuration
    config                jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    metadata              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    tags                  text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    program_name          text CHECK (length(program_name) <= 200),
    dataset_name          text CHECK (length(dataset_name) <= 200),
    metric_name           text CHECK (length(metric_name) <= 200),
    task_model            text CHECK (length(task_model) <= 200),
    prompt_model          text CHECK (length(prompt_model) <= 200),
    -- scores: fractions in [0, 1]; best_score counts baseline and full evaluations only
    baseline_score        numeric(7,4) CHECK (baseline_score BETWEEN 0 AND 1),
    best_score            numeric(7,4) CHECK (best_score BETWEEN 0 AND 1),
    best_minibatch_score  numeric(7,4) CHECK (best_minibatch_score BETWEEN 0 AND 1),
    final_score           numeric(7,4) CHECK (final_score BETWEEN 0 AND 1),
    -- What the run gained over its baseline: the final score once there is one, else the best so far.
    improvement           numeric(7,4) GENERATED ALWAYS AS
                              (COALESCE(final_score, best_score) - baseline_score) STORED,
    improvement_pct       numeric(12,2) GENERATED ALWAYS AS (CASE WHEN baseline_score > 0 THEN
                              round((COALESCE(final_score, best_score) - baseline_score) / baseline_score * 100, 2)
                              END) STORED,
    -- progress
    total_iterations      integer CHECK (total_iterations >= 0),
    completed_iterations  integer NOT NULL DEFAULT 0 CHECK (completed_iterations >= 0),
    current_iteration     integer CHECK (current_iteration >= 0),
    best_iteration        integer CHECK (best_iteration >= 0),
    samples_evaluated     bigint NOT NULL DEFAULT 0 CHECK (samples_evaluated >= 0),
    samples_successful    bigint NOT NULL DEFAULT 0 CHECK (samples_successful >= 0),
    samples_failed        bigint NOT NULL DEFAULT 0 CHECK (samples_failed >= 0),
    -- usage
    prompt_tokens         bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens     bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    total_tokens          bigint GENERATED ALWAYS AS (prompt_tokens + completion_tokens) STORED,
    cost_usd              numeric(14,6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    avg_latency_ms        double precision CHECK (avg_latency_ms >= 0),
    -- result
    optimized_program     jsonb,
    error_message         text CHECK (length(error_message) <= 10000),
    error_details         jsonb,
    -- timing
    start_time            timestamptz,
    end_time              timestamptz,
    duration_ms           bigint GENERATED ALWAYS AS
                              ((EXTRACT(EPOCH FROM (end_time - start_time)) * 1000)::bigint) STORED,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT optimization_runs_end_after_start CHECK (end_time >= start_time),
    CONSTRAINT optimization_runs_sample_counts CHECK (samples_evaluated >= samples_successful + samples_failed),
    -- The target of the children's composite foreign keys, so a child can never name another project.
    CONSTRAINT optimization_runs_id_project_uq UNIQUE (id, project_id)
);

-- Serves: GET /runs (default sort -createdAt) and its keyset cursor.
CREATE INDEX optimization_runs_project_created_idx ON optimization_runs (project_id, created_at DESC, id DESC);
COMMENT ON INDEX optimization_runs_project_created_idx IS 'GET /runs sort=-createdAt, keyset (created_at, id)';
-- Serves: GET /runs?status=…
CREATE INDEX optimization_runs_project_status_created_idx ON optimization_runs (project_id, status, created_at DESC, id DESC);
COMMENT ON INDEX optimization_runs_project_status_created_idx IS 'GET /runs?status=… sort=-createdAt';
-- Serves: GET /runs?optimizerType=…
CREATE INDEX optimization_runs_project_optimizer_created_idx ON optimization_runs (project_id, optimizer_type, created_at DESC, id DESC);
COMMENT ON INDEX optimization_runs_project_optimizer_created_idx IS 'GET /runs?optimizerType=… sort=-createdAt';
-- Serves: GET /leaderboard and GET /runs?sort=-finalScore among completed runs.
CREATE INDEX optimization_runs_leaderboard_idx ON optimization_runs (project_id, final_score DESC NULLS LAST, id DESC)
    WHERE status = 'completed';
COMMENT ON INDEX optimization_runs_leaderboard_idx IS 'GET /leaderboard: completed runs by final score';
-- Serves: GET /runs?sort=-bestScore.
CREATE INDEX optimization_runs_project_best_idx ON optimization_runs (project_id, best_score DESC NULLS LAST, id DESC);
COMMENT ON INDEX optimization_runs_project_best_idx IS 'GET /runs?sort=-bestScore';
-- Serves: GET /runs?sort=-improvement.
CREATE INDEX optimization_runs_project_improvement_idx ON optimization_runs (project_id, improvement DESC NULLS LAST, id DESC);
COMMENT ON INDEX optimization_runs_project_improvement_idx IS 'GET /runs?sort=-improvement';
-- Serves: GET /runs?config={…} (jsonb containment @>).
CREATE INDEX optimization_runs_config_gin ON optimization_runs USING gin (config jsonb_path_ops);
COMMENT ON INDEX optimization_runs_config_gin IS 'GET /runs?config=… : config @> $1';
-- Serves: metadata containment searches (metadata @> $1).
CREATE INDEX optimization_runs_metadata_gin ON optimization_runs USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX optimization_runs_metadata_gin IS 'runs by metadata: metadata @> $1';
-- Serves: GET /runs?tag=a&tag=b (tags @> ARRAY[…], all must match).
CREATE INDEX optimization_runs_tags_gin ON optimization_runs USING gin (tags);
COMMENT ON INDEX optimization_runs_tags_gin IS 'GET /runs?tag=… : tags @> $1';
-- Serves: GET /runs?q=… (case-insensitive substring of the run name).
CREATE INDEX optimization_runs_name_trgm ON optimization_runs USING gin (run_name gin_trgm_ops);
COMMENT ON INDEX optimization_runs_name_trgm IS 'GET /runs?q=… : run_name ILIKE %q%';
-- Serves: the stall sweep and dashboards of live runs (few rows: a partial index stays tiny).
CREATE INDEX optimization_runs_active_idx ON optimization_runs (project_id, updated_at)
    WHERE status IN ('running', 'stalled');
COMMENT ON INDEX optimization_runs_active_idx IS 'active (running or stalled) runs of a project';

-- ───────────────────────────── iterations (trials) ─────────────────────────────

CREATE TABLE optimization_iterations (
    run_id              uuid NOT NULL,
    project_id          uuid NOT NULL,
    iteration           integer NOT NULL CHECK (iteration >= 0),
    kind                text NOT NULL DEFAULT 'minibatch' CHECK (kind IN ('baseline', 'minibatch', 'full')),
    -- The candidate chosen per predictor, e.g. {"predictors": {"0": {"instruction": 2, "demos": 3}}}.
    params              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
    candidate_program   jsonb,
    score               numeric(7,4) CHECK (score BETWEEN 0 AND 1),
    is_best             boolean NOT NULL DEFAULT false,
    samples_evaluated   integer NOT NULL DEFAULT 0 CHECK (samples_evaluated >= 0),
    samples_successful  integer NOT NULL DEFAULT 0 CHECK (samples_successful >= 0),
    samples_failed      integer NOT NULL DEFAULT 0 CHECK (samples_failed >= 0),
    prompt_tokens       bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens   bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    cost_usd            numeric(14,6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    avg_latency_ms      double precision CHECK (avg_latency_ms >= 0),
    started_at          timestamptz,
    completed_at        timestamptz,
    duration_ms         bigint GENERATED ALWAYS AS
                            ((EXTRACT(EPOCH FROM (completed_at - started_at)) * 1000)::bigint) STORED,
    trace_id            text CHECK (trace_id ~ '^[0-9a-f]{32}$'),
    span_id             text CHECK (span_id ~ '^[0-9a-f]{16}$'),
    metadata            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),

    -- Serves: GET /runs/{id}/iterations in order, and the (run, iteration) identity of a retry.
    CONSTRAINT optimization_iterations_pk PRIMARY KEY (run_id, iteration),
    CONSTRAINT optimization_iterations_run_fk FOREIGN KEY (run_id, project_id)
        REFERENCES optimization_runs (id, project_id) ON DELETE CASCADE,
    -- The target of the samples' foreign key, so a sample's project always matches its iteration's.
    CONSTRAINT optimization_iterations_project_uq UNIQUE (run_id, iteration, project_id),
    CONSTRAINT optimization_iterations_end_after_start CHECK (completed_at >= started_at),
    CONSTRAINT optimization_iterations_sample_counts CHECK (samples_evaluated >= samples_successful + samples_failed)
);
COMMENT ON INDEX optimization_iterations_pk IS 'GET /runs/{id}/iterations ordered by iteration; retry identity';
COMMENT ON INDEX optimization_iterations_project_uq IS 'target of optimization_samples FK (run, iteration, project)';
-- Serves: GET /runs/{id}/iterations/best.
CREATE INDEX optimization_iterations_best_idx ON optimization_iterations (run_id) WHERE is_best;
COMMENT ON INDEX optimization_iterations_best_idx IS 'GET /runs/{id}/iterations/best';
-- Serves: comparing candidate choices across trials (params @> {"predictors": {"0": {"instruction": 2}}}).
CREATE INDEX optimization_iterations_params_gin ON optimization_iterations USING gin (params jsonb_path_ops);
COMMENT ON INDEX optimization_iterations_params_gin IS 'iterations by chosen candidate: params @> $1';
-- Serves: the run_id FK cascade from optimization_runs (run_id, project_id).
COMMENT ON CONSTRAINT optimization_iterations_run_fk ON optimization_iterations IS 'cascade: run → iterations';

-- ───────────────────────────── samples (evaluated examples) ─────────────────────────────

-- Narrow, index-light and FK-checked once per row, for fast binary COPY; paged by its primary key.
CREATE TABLE optimization_samples (
    run_id             uuid NOT NULL,
    project_id         uuid NOT NULL,
    iteration          integer NOT NULL CHECK (iteration >= 0),
    sample_index       integer NOT NULL CHECK (sample_index >= 0),
    example_id         text CHECK (length(example_id) <= 200),
    inputs             jsonb,
    expected           jsonb,
    prediction         jsonb,
    score              numeric(7,4) CHECK (score BETWEEN 0 AND 1),
    success            boolean NOT NULL DEFAULT true,
    error              text CHECK (length(error) <= 10000),
    latency_ms         double precision CHECK (latency_ms >= 0),
    prompt_tokens      integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens  integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    cost_usd           numeric(14,6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    trace_id           text CHECK (trace_id ~ '^[0-9a-f]{32}$'),
    span_id            text CHECK (span_id ~ '^[0-9a-f]{16}$'),
    created_at         timestamptz NOT NULL DEFAULT now(),

    -- Serves: GET /runs/{id}/samples paged by (iteration, sample_index), and the retry identity.
    CONSTRAINT optimization_samples_pk PRIMARY KEY (run_id, iteration, sample_index),
    CONSTRAINT optimization_samples_iteration_fk FOREIGN KEY (run_id, iteration, project_id)
        REFERENCES optimization_iterations (run_id, iteration, project_id) ON DELETE CASCADE
);
COMMENT ON INDEX optimization_samples_pk IS 'GET /runs/{id}/samples keyset (iteration, sample_index); retry identity';
COMMENT ON CONSTRAINT optimization_samples_iteration_fk ON optimization_samples IS 'cascade: iteration → samples';
-- Serves: GET /traces/{traceId}/samples (trace inspection); partial because most samples may carry none.
CREATE INDEX optimization_samples_trace_idx ON optimization_samples (trace_id) WHERE trace_id IS NOT NULL;
COMMENT ON INDEX optimization_samples_trace_idx IS 'GET /traces/{traceId}/samples';

-- ───────────────────────────── triggers ─────────────────────────────

CREATE TRIGGER project_config_updated_at BEFORE UPDATE ON project_config
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER optimization_runs_updated_at BEFORE UPDATE ON optimization_runs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER optimization_iterations_updated_at BEFORE UPDATE ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A run's start and end times follow its status, so no writer can forget them.
CREATE FUNCTION optimization_runs_status_times() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'running' AND NEW.start_time IS NULL THEN
        NEW.start_time := now();
    END IF;
    IF NEW.status IN ('completed', 'failed', 'cancelled') AND NEW.end_time IS NULL THEN
        NEW.end_time := GREATEST(now(), NEW.start_time);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER optimization_runs_status_times BEFORE INSERT OR UPDATE OF status ON optimization_runs
    FOR EACH ROW EXECUTE FUNCTION optimization_runs_status_times();

-- Best-iteration marking: only baseline and full evaluations can be best (a minibatch score is a
-- noisy estimate). Recomputed from the rows, so late or out-of-order iterations cannot corrupt it;
-- ties go to the earlier iteration.
CREATE FUNCTION optimization_iterations_mark_best() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    best record;
BEGIN
    -- Lock the run first, so concurrent writers of one run see each other's committed rows. NO KEY
    -- UPDATE, not UPDATE: each writer's foreign-key check already holds KEY SHARE on the run, and
    -- FOR UPDATE conflicts with it, so two writers of one run would deadlock.
    PERFORM 1 FROM optimization_runs WHERE id = NEW.run_id FOR NO KEY UPDATE;

    SELECT iteration, score INTO best
    FROM optimization_iterations
    WHERE run_id = NEW.run_id AND kind IN ('baseline', 'full') AND score IS NOT NULL
    ORDER BY score DESC, iteration
    LIMIT 1;

    UPDATE optimization_iterations
    SET is_best = (best.iteration IS NOT NULL AND iteration = best.iteration)
    WHERE run_id = NEW.run_id
      AND is_best IS DISTINCT FROM (best.iteration IS NOT NULL AND iteration = best.iteration);

    UPDATE optimization_runs
    SET best_score = best.score, best_iteration = best.iteration
    WHERE id = NEW.run_id
      AND (best_score IS DISTINCT FROM best.score OR best_iteration IS DISTINCT FROM best.iteration);
    RETURN NULL;
END
$$;
CREATE TRIGGER optimization_iterations_mark_best AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_mark_best();

-- Roll-up of run statistics from its iterations: completed trials, the furthest trial seen, the
-- best minibatch estimate, and the baseline score when the client did not give one.
CREATE FUNCTION optimization_iterations_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    stats record;
BEGIN
    PERFORM 1 FROM optimization_runs WHERE id = NEW.run_id FOR NO KEY UPDATE;

    SELECT count(*) FILTER (WHERE score IS NOT NULL)                         AS completed,
           max(iteration)                                                    AS furthest,
           max(score) FILTER (WHERE kind = 'minibatch')                      AS best_minibatch,
           (array_agg(score ORDER BY iteration) FILTER (WHERE kind = 'baseline' AND score IS NOT NULL))[1]
                                                                             AS baseline
    INTO stats
    FROM optimization_iterations
    WHERE run_id = NEW.run_id;

    UPDATE optimization_runs
    SET completed_iterations = stats.completed,
        current_iteration    = GREATEST(current_iteration, stats.furthest),
        best_minibatch_score = stats.best_minibatch,
        baseline_score       = COALESCE(baseline_score, stats.baseline)
    WHERE id = NEW.run_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER optimization_iterations_rollup AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_rollup();

-- ───────────────────────────── helper functions ─────────────────────────────
-- SECURITY INVOKER unless said otherwise: they run under the caller's RLS.

-- A run's summary: the run row plus what its iterations and samples say, as one JSON document.
CREATE FUNCTION run_summary(p_run_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'runId', r.id,
        'runName', r.run_name,
        'optimizerType', r.optimizer_type,
        'status', r.status,
        'baselineScore', r.baseline_score,
        'bestScore', r.best_score,
        'bestMinibatchScore', r.best_minibatch_score,
        'finalScore', r.final_score,
        'improvement', r.improvement,
        'improvementPct', r.improvement_pct,
        'bestIteration', r.best_iteration,
        'totalIterations', r.total_iterations,
        'completedIterations', r.completed_iterations,
        'iterationsByKind', COALESCE((SELECT jsonb_object_agg(kind, n) FROM (
            SELECT kind, count(*) AS n FROM optimization_iterations WHERE run_id = r.id GROUP BY kind) k), '{}'),
        'samplesEvaluated', r.samples_evaluated,
        'samplesSuccessful', r.samples_successful,
        'samplesFailed', r.samples_failed,
        'successRate', CASE WHEN r.samples_evaluated > 0
                            THEN round(r.samples_successful::numeric / r.samples_evaluated, 4) END,
        'totalTokens', r.total_tokens,
        'costUsd', r.cost_usd,
        'avgLatencyMs', r.avg_latency_ms,
        'durationMs', r.duration_ms,
        'startTime', r.start_time,
        'endTime', r.end_time)
    FROM optimization_runs r
    WHERE r.id = p_run_id
$$;

-- The leaderboard: the project's top completed runs by final score. The ORDER BY matches
-- optimization_runs_leaderboard_idx (NULLS LAST) so the index gives the order and no sort is needed.
CREATE FUNCTION top_runs(p_optimizer_type text DEFAULT NULL, p_limit integer DEFAULT 10)
RETURNS SETOF optimization_runs
LANGUAGE sql STABLE AS $$
    SELECT * FROM optimization_runs
    WHERE status = 'completed' AND final_score IS NOT NULL
      AND project_id = app_current_project()
      AND (p_optimizer_type IS NULL OR optimizer_type = p_optimizer_type)
    ORDER BY final_score DESC NULLS LAST, id DESC
    LIMIT LEAST(GREATEST(p_limit, 1), 100)
$$;

-- Progress from a worker: moves the run's current trial forward (never back) and wakes a
-- pending or stalled run. Returns false when the run is not visible or has already ended.
CREATE FUNCTION update_run_progress(p_run_id uuid, p_current_iteration integer, p_total_iterations integer DEFAULT NULL)
RETURNS boolean
LANGUAGE sql AS $$
    WITH updated AS (
        UPDATE optimization_runs
        SET current_iteration = GREATEST(current_iteration, p_current_iteration),
            total_iterations  = COALESCE(p_total_iterations, total_iterations),
            status            = CASE WHEN status IN ('pending', 'stalled') THEN 'running' ELSE status END
        WHERE id = p_run_id AND status IN ('pending', 'running', 'stalled')
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM updated)
$$;

-- ───────────────────────────── analytics ─────────────────────────────

CREATE MATERIALIZED VIEW optimization_run_analytics AS
SELECT project_id,
       optimizer_type,
       count(*)                                          AS total_runs,
       count(*) FILTER (WHERE status = 'pending')        AS pending_runs,
       count(*) FILTER (WHERE status = 'running')        AS running_runs,
       count(*) FILTER (WHERE status = 'stalled')        AS stalled_runs,
       count(*) FILTER (WHERE status = 'completed')      AS completed_runs,
       count(*) FILTER (WHERE status = 'failed')         AS failed_runs,
       count(*) FILTER (WHERE status = 'cancelled')      AS cancelled_runs,
       round(avg(final_score), 4)                        AS avg_final_score,
       max(final_score)                                  AS max_final_score,
       round(avg(improvement), 4)                        AS avg_improvement,
       round(avg(improvement_pct), 2)                    AS avg_improvement_pct,
       COALESCE(sum(total_tokens), 0)::bigint            AS total_tokens,
       COALESCE(sum(cost_usd), 0)                        AS total_cost_usd,
       round(avg(duration_ms))::bigint                   AS avg_duration_ms,
       COALESCE(sum(samples_evaluated), 0)::bigint       AS samples_evaluated,
       max(created_at)                                   AS last_run_at,
       now()                                             AS refreshed_at
FROM optimization_runs
GROUP BY project_id, optimizer_type;
-- Required by REFRESH … CONCURRENTLY; also serves the per-project read.
CREATE UNIQUE INDEX optimization_run_analytics_uq ON optimization_run_analytics (project_id, optimizer_type);
COMMENT ON INDEX optimization_run_analytics_uq IS 'GET /analytics of a project; REFRESH CONCURRENTLY';

-- A materialized view has no row-level security, so the service reads it only through this
-- function, which returns the current project's rows and nothing else.
CREATE FUNCTION project_run_analytics() RETURNS SETOF optimization_run_analytics
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT * FROM optimization_run_analytics WHERE project_id = app_current_project()
    ORDER BY optimizer_type
$$;

-- Refreshing needs ownership of the view; readers keep reading while it refreshes.
CREATE FUNCTION refresh_run_analytics() RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY optimization_run_analytics;
    RETURN now();
END
$$;

-- ───────────────────────────── the admin path ─────────────────────────────
-- Cross-project operations the service may perform before any project is known. Each is
-- SECURITY DEFINER (it runs as the owner, past RLS) and does one narrow thing.

CREATE FUNCTION admin_create_project(p_id uuid, p_name text) RETURNS project_config
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO project_config (id, name) VALUES (COALESCE(p_id, gen_random_uuid()), p_name)
    ON CONFLICT (id) DO UPDATE SET name = project_config.name
    RETURNING *
$$;

CREATE FUNCTION admin_create_api_key(p_project_id uuid, p_name text, p_prefix text, p_key_hash bytea)
RETURNS uuid
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO project_api_keys (project_id, name, prefix, key_hash)
    VALUES (p_project_id, COALESCE(p_name, ''), p_prefix, p_key_hash)
    RETURNING id
$$;

CREATE FUNCTION admin_revoke_api_key(p_project_id uuid, p_key_id uuid) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH revoked AS (
        UPDATE project_api_keys SET revoked_at = COALESCE(revoked_at, now())
        WHERE id = p_key_id AND project_id = p_project_id
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM revoked)
$$;

-- Key hash → project, for a key that is not revoked. Notes the use at most once a minute so a
-- busy key does not turn every request into a write.
CREATE FUNCTION authenticate_api_key(p_key_hash bytea)
RETURNS TABLE (key_id uuid, project_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE project_api_keys k SET last_used_at = now()
    WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL
      AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
    RETURN QUERY
        SELECT k.id, k.project_id FROM project_api_keys k
        WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL;
END
$$;

-- ───────────────────────────── row-level security ─────────────────────────────
-- Every tenant table: a row is visible and writable only under its own project.

ALTER TABLE project_config ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_isolation ON project_config
    USING (id = app_current_project()) WITH CHECK (id = app_current_project());

ALTER TABLE project_api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_isolation ON project_api_keys
    USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project());

ALTER TABLE optimization_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_isolation ON optimization_runs
    USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project());

ALTER TABLE optimization_iterations ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_isolation ON optimization_iterations
    USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project());

ALTER TABLE optimization_samples ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_isolation ON optimization_samples
    USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project());

-- ───────────────────────────── grants for the service role ─────────────────────────────

-- Functions are executable by PUBLIC by default; the SECURITY DEFINER ones must not be.
REVOKE EXECUTE ON FUNCTION project_run_analytics(), refresh_run_analytics(),
    admin_create_project(uuid, text), admin_create_api_key(uuid, text, text, bytea),
    admin_revoke_api_key(uuid, uuid), authenticate_api_key(bytea) FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO optruns_service;
GRANT SELECT ON project_config, project_api_keys TO optruns_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON optimization_runs, optimization_iterations, optimization_samples
    TO optruns_service;
-- No grant on optimization_run_analytics: it is read through project_run_analytics() only.
GRANT EXECUTE ON FUNCTION project_run_analytics(), refresh_run_analytics(),
    admin_create_project(uuid, text), admin_create_api_key(uuid, text, text, bytea),
    admin_revoke_api_key(uuid, uuid), authenticate_api_key(bytea)
    TO optruns_service;
