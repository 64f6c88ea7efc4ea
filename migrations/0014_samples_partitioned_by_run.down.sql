-- optruns:no-transaction
-- Undoes 0014: optimization_samples back to one plain table, online, the same way up went (a table built beside,
-- writes mirrored by triggers, rows copied a few runs per transaction, one short swap). Safe to run again.

DO $$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'optimization_samples'::regclass) = 'r' THEN
        RETURN;
    END IF;
    CREATE TABLE IF NOT EXISTS optimization_samples_flat
        (LIKE optimization_samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS);
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'optimization_samples_flat'::regclass AND contype = 'p') THEN
        ALTER TABLE optimization_samples_flat ADD CONSTRAINT optimization_samples_flat_pk PRIMARY KEY (run_id, iteration, sample_index);
        ALTER TABLE optimization_samples_flat ADD CONSTRAINT optimization_samples_iteration_fk FOREIGN KEY (run_id, iteration, project_id)
            REFERENCES optimization_iterations (run_id, iteration, project_id) ON DELETE CASCADE;
        CREATE INDEX optimization_samples_flat_trace_idx ON optimization_samples_flat (trace_id) WHERE trace_id IS NOT NULL;
        CREATE INDEX optimization_samples_flat_examples_idx ON optimization_samples_flat (run_id, project_id, example_id)
            INCLUDE (iteration, sample_index, score, success) WHERE example_id IS NOT NULL;
        CREATE INDEX optimization_samples_flat_unnamed_examples_idx ON optimization_samples_flat (run_id, project_id) WHERE example_id IS NULL;
        ALTER TABLE optimization_samples_flat ENABLE ROW LEVEL SECURITY;
        CREATE POLICY project_isolation ON optimization_samples_flat
            USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project());
        GRANT SELECT, INSERT, UPDATE, DELETE ON optimization_samples_flat TO optruns_service;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION optimization_samples_mirror() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        DELETE FROM optimization_samples_flat n USING old_rows o
        WHERE (n.run_id, n.iteration, n.sample_index) = (o.run_id, o.iteration, o.sample_index);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO optimization_samples_flat SELECT * FROM new_rows ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

DO $$
BEGIN
    IF to_regclass('optimization_samples_flat') IS NULL THEN
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

DO $$
DECLARE
    batch uuid[];
BEGIN
    IF to_regclass('optimization_samples_flat') IS NULL THEN
        RETURN;
    END IF;
    FOR batch IN
        SELECT array_agg(id ORDER BY id)
        FROM (SELECT id, sum(GREATEST(samples_evaluated, 1)) OVER (ORDER BY id) / 20000 AS chunk FROM optimization_runs) r
        GROUP BY chunk ORDER BY chunk
    LOOP
        PERFORM 1 FROM optimization_runs WHERE id = ANY (batch) FOR KEY SHARE;
        INSERT INTO optimization_samples_flat SELECT * FROM optimization_samples WHERE run_id = ANY (batch) ON CONFLICT DO NOTHING;
        COMMIT;
    END LOOP;
END
$$;

DO $$
DECLARE
    old_count bigint;
    new_count bigint;
BEGIN
    IF to_regclass('optimization_samples_flat') IS NULL THEN
        RETURN;
    END IF;
    SELECT (SELECT count(*) FROM optimization_samples), (SELECT count(*) FROM optimization_samples_flat) INTO old_count, new_count;
    IF old_count <> new_count THEN
        RAISE EXCEPTION 'optimization_samples holds % rows, optimization_samples_flat %: not swapping', old_count, new_count;
    END IF;
END
$$;

DO $$
BEGIN
    IF to_regclass('optimization_samples_flat') IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('lock_timeout', '60s', true);
    LOCK TABLE optimization_samples IN ACCESS EXCLUSIVE MODE;
    DROP TABLE optimization_samples;
    ALTER TABLE optimization_samples_flat RENAME TO optimization_samples;
    ALTER TABLE optimization_samples RENAME CONSTRAINT optimization_samples_flat_pk TO optimization_samples_pk;
    ALTER INDEX optimization_samples_flat_trace_idx RENAME TO optimization_samples_trace_idx;
    ALTER INDEX optimization_samples_flat_examples_idx RENAME TO optimization_samples_examples_idx;
    ALTER INDEX optimization_samples_flat_unnamed_examples_idx RENAME TO optimization_samples_unnamed_examples_idx;
    COMMENT ON INDEX optimization_samples_pk IS 'GET /runs/{id}/samples keyset (iteration, sample_index); retry identity';
    COMMENT ON CONSTRAINT optimization_samples_iteration_fk ON optimization_samples IS 'cascade: iteration → samples';
    COMMENT ON INDEX optimization_samples_trace_idx IS 'GET /traces/{traceId}/samples';
    COMMENT ON INDEX optimization_samples_examples_idx IS 'GET /runs/{id}/examples: index-only aggregation per example id; project_id makes the RLS check an index condition';
    COMMENT ON INDEX optimization_samples_unnamed_examples_idx IS 'GET /runs/{id}/examples: the samples without an example id';
END
$$;

DROP FUNCTION IF EXISTS optimization_samples_mirror();

ANALYZE optimization_samples;
