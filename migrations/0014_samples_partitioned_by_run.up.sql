-- optruns:no-transaction
-- 0014 — optimization_samples becomes hash-partitioned by run_id (16 partitions), online: a populated table is
-- rebuilt beside itself while writes go on, and only a short final swap locks it (below). On a fresh database every
-- step is instant. Outside a transaction (the marker above), so each statement commits by itself; every step checks
-- what is already done, so a migration stopped part-way completes when run again. By hand, as the owner:
-- `psql -v ON_ERROR_STOP=1 -f` this file (no psql meta-commands) — but then `migrate` does not record it.
--
-- Why by run and not by time: docs/operations.md ("Partitioned samples") and BENCHMARKS.md ("Scale and operations").
-- In short: a unique key of a partitioned table must contain the partition key, so partitions by the sample's time
-- would end (run, iteration, sample_index) as the database-enforced retry identity; every read and every delete
-- names one run, which a hash of run_id prunes to one partition; and retention is per project (retentionDays), so
-- a month's partition rarely expires whole. Sixteen partitions keep each one a sixteenth of the table for
-- autovacuum, index builds and a purge's cleanup, at 10 M samples ~600 k rows each.
--
-- How, without a long exclusive lock on a large table: the partitioned table is built beside the old one, triggers
-- mirror every write made meanwhile, the existing rows are copied a few runs per transaction (the runs of a batch
-- locked FOR KEY SHARE, so a concurrent DELETE of one of them waits for that batch instead of racing it), and one
-- short transaction swaps the names.
--
-- Row-level security: the parent keeps its policy, which is what applies to every read and write through it; each
-- partition gets RLS and the same policy too, and the service role has no grant on any partition, so naming a
-- partition directly is refused rather than a way around the parent's policy.
--
-- For later migrations: each partition's indexes carry its own names (optimization_samples_p06_pkey, …; a duplicate
-- sample is reported against the partition's key, whose parent is optimization_samples_pk), and CREATE INDEX
-- CONCURRENTLY does not run on a partitioned table: build it ON ONLY the parent, CONCURRENTLY on each partition, then
-- ALTER INDEX … ATTACH PARTITION each one.

-- 1. The partitioned table, empty: same columns, defaults, checks (LIKE keeps their names), keys and indexes.
-- Each step below does nothing once the swap is done (optimization_samples_by_run is gone then).
DO $$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'optimization_samples'::regclass) = 'p' THEN
        RETURN;
    END IF;
    CREATE TABLE IF NOT EXISTS optimization_samples_by_run
        (LIKE optimization_samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)
        PARTITION BY HASH (run_id);
    FOR r IN 0..15 LOOP
        EXECUTE format('CREATE TABLE IF NOT EXISTS optimization_samples_p%s PARTITION OF optimization_samples_by_run
                        FOR VALUES WITH (MODULUS 16, REMAINDER %s)', lpad(r::text, 2, '0'), r);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'optimization_samples_by_run'::regclass AND contype = 'p') THEN
        ALTER TABLE optimization_samples_by_run ADD CONSTRAINT optimization_samples_by_run_pk PRIMARY KEY (run_id, iteration, sample_index);
        ALTER TABLE optimization_samples_by_run ADD CONSTRAINT optimization_samples_iteration_fk FOREIGN KEY (run_id, iteration, project_id)
            REFERENCES optimization_iterations (run_id, iteration, project_id) ON DELETE CASCADE;
        CREATE INDEX optimization_samples_by_run_trace_idx ON optimization_samples_by_run (trace_id) WHERE trace_id IS NOT NULL;
        CREATE INDEX optimization_samples_by_run_examples_idx ON optimization_samples_by_run (run_id, project_id, example_id)
            INCLUDE (iteration, sample_index, score, success) WHERE example_id IS NOT NULL;
        CREATE INDEX optimization_samples_by_run_unnamed_examples_idx ON optimization_samples_by_run (run_id, project_id) WHERE example_id IS NULL;
        ALTER TABLE optimization_samples_by_run ENABLE ROW LEVEL SECURITY;
        CREATE POLICY project_isolation ON optimization_samples_by_run
            USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project());
        -- The service role reaches the rows through the parent only (under its policy), never a partition.
        GRANT SELECT, INSERT, UPDATE, DELETE ON optimization_samples_by_run TO optruns_service;
    END IF;
    FOR r IN 0..15 LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = format('optimization_samples_p%s', lpad(r::text, 2, '0'))::regclass) THEN
            EXECUTE format('ALTER TABLE optimization_samples_p%s ENABLE ROW LEVEL SECURITY', lpad(r::text, 2, '0'));
            EXECUTE format('CREATE POLICY project_isolation ON optimization_samples_p%s
                            USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project())', lpad(r::text, 2, '0'));
        END IF;
    END LOOP;
END
$$;

-- 2. Every write to the old table from now on is repeated in the new one, in the writer's transaction. As the
-- owner (SECURITY DEFINER): the writer is the service role under RLS, or a cascade from a deleted run.
CREATE OR REPLACE FUNCTION optimization_samples_mirror() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        DELETE FROM optimization_samples_by_run n USING old_rows o
        WHERE (n.run_id, n.iteration, n.sample_index) = (o.run_id, o.iteration, o.sample_index);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO optimization_samples_by_run SELECT * FROM new_rows ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

DO $$
BEGIN
    IF to_regclass('optimization_samples_by_run') IS NULL THEN
        RETURN;
    END IF;
    DROP TRIGGER IF EXISTS optimization_samples_mirror_insert ON optimization_samples;
    CREATE TRIGGER optimization_samples_mirror_insert AFTER INSERT ON optimization_samples
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION optimization_samples_mirror();
    DROP TRIGGER IF EXISTS optimization_samples_mirror_update ON optimization_samples;
    CREATE TRIGGER optimization_samples_mirror_update AFTER UPDATE ON optimization_samples
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION optimization_samples_mirror();
    DROP TRIGGER IF EXISTS optimization_samples_mirror_delete ON optimization_samples;
    CREATE TRIGGER optimization_samples_mirror_delete AFTER DELETE ON optimization_samples
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION optimization_samples_mirror();
END
$$;

-- 3. The rows written before the triggers, about 20,000 samples per transaction (by the runs' own counts).
DO $$
DECLARE
    batch uuid[];
BEGIN
    IF to_regclass('optimization_samples_by_run') IS NULL THEN
        RETURN;
    END IF;
    FOR batch IN
        SELECT array_agg(id ORDER BY id)
        FROM (SELECT id, sum(GREATEST(samples_evaluated, 1)) OVER (ORDER BY id) / 20000 AS chunk FROM optimization_runs) r
        GROUP BY chunk ORDER BY chunk
    LOOP
        PERFORM 1 FROM optimization_runs WHERE id = ANY (batch) FOR KEY SHARE;
        INSERT INTO optimization_samples_by_run SELECT * FROM optimization_samples WHERE run_id = ANY (batch) ON CONFLICT DO NOTHING;
        COMMIT;
    END LOOP;
END
$$;

-- 4. Both tables hold the same rows: the triggers commit with their writers, so one snapshot sees both equal.
DO $$
DECLARE
    old_count bigint;
    new_count bigint;
BEGIN
    IF to_regclass('optimization_samples_by_run') IS NULL THEN
        RETURN;
    END IF;
    SELECT (SELECT count(*) FROM optimization_samples), (SELECT count(*) FROM optimization_samples_by_run) INTO old_count, new_count;
    IF old_count <> new_count THEN
        RAISE EXCEPTION 'optimization_samples holds % rows, optimization_samples_by_run %: not swapping', old_count, new_count;
    END IF;
END
$$;

-- 5. The swap, one short transaction: the lock waits for in-flight commits (at most lock_timeout), then only names move.
DO $$
BEGIN
    IF to_regclass('optimization_samples_by_run') IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('lock_timeout', '60s', true);
    LOCK TABLE optimization_samples IN ACCESS EXCLUSIVE MODE;
    DROP TABLE optimization_samples;
    ALTER TABLE optimization_samples_by_run RENAME TO optimization_samples;
    ALTER TABLE optimization_samples RENAME CONSTRAINT optimization_samples_by_run_pk TO optimization_samples_pk;
    ALTER INDEX optimization_samples_by_run_trace_idx RENAME TO optimization_samples_trace_idx;
    ALTER INDEX optimization_samples_by_run_examples_idx RENAME TO optimization_samples_examples_idx;
    ALTER INDEX optimization_samples_by_run_unnamed_examples_idx RENAME TO optimization_samples_unnamed_examples_idx;
    COMMENT ON TABLE optimization_samples IS 'hash-partitioned by run_id, 16 partitions (migration 0014; docs/operations.md, "Partitioned samples")';
    COMMENT ON INDEX optimization_samples_pk IS 'GET /runs/{id}/samples keyset (iteration, sample_index); retry identity';
    COMMENT ON CONSTRAINT optimization_samples_iteration_fk ON optimization_samples IS 'cascade: iteration → samples';
    COMMENT ON INDEX optimization_samples_trace_idx IS 'GET /traces/{traceId}/samples';
    COMMENT ON INDEX optimization_samples_examples_idx IS 'GET /runs/{id}/examples: index-only aggregation per example id; project_id makes the RLS check an index condition';
    COMMENT ON INDEX optimization_samples_unnamed_examples_idx IS 'GET /runs/{id}/examples: the samples without an example id';
END
$$;

DROP FUNCTION IF EXISTS optimization_samples_mirror();

ANALYZE optimization_samples;
