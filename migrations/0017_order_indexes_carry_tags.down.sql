-- optruns:no-transaction
-- Undoes 0017: the four order indexes without the tags, rebuilt online the same way and, like it, completed by
-- running it again after a stop part-way (a stopped `down` leaves 0017 recorded, so `up` would not repair it).

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_created_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_created_plain_idx')) THEN
        ALTER INDEX optimization_runs_project_created_plain_idx RENAME TO optimization_runs_project_created_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_created_plain_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_created_plain_idx ON optimization_runs (project_id, created_at DESC, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_created_idx;
ALTER INDEX optimization_runs_project_created_plain_idx RENAME TO optimization_runs_project_created_idx;
COMMENT ON INDEX optimization_runs_project_created_idx IS 'GET /runs sort=-createdAt, keyset (created_at, id)';

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_final_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_final_plain_idx')) THEN
        ALTER INDEX optimization_runs_project_final_plain_idx RENAME TO optimization_runs_project_final_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_final_plain_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_final_plain_idx ON optimization_runs (project_id, final_score DESC NULLS LAST, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_final_idx;
ALTER INDEX optimization_runs_project_final_plain_idx RENAME TO optimization_runs_project_final_idx;
COMMENT ON INDEX optimization_runs_project_final_idx IS 'GET /runs?sort=-finalScore';

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_best_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_best_plain_idx')) THEN
        ALTER INDEX optimization_runs_project_best_plain_idx RENAME TO optimization_runs_project_best_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_best_plain_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_best_plain_idx ON optimization_runs (project_id, best_score DESC NULLS LAST, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_best_idx;
ALTER INDEX optimization_runs_project_best_plain_idx RENAME TO optimization_runs_project_best_idx;
COMMENT ON INDEX optimization_runs_project_best_idx IS 'GET /runs?sort=-bestScore';

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_improvement_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_improvement_plain_idx')) THEN
        ALTER INDEX optimization_runs_project_improvement_plain_idx RENAME TO optimization_runs_project_improvement_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_improvement_plain_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_improvement_plain_idx ON optimization_runs (project_id, improvement DESC NULLS LAST, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_improvement_idx;
ALTER INDEX optimization_runs_project_improvement_plain_idx RENAME TO optimization_runs_project_improvement_idx;
COMMENT ON INDEX optimization_runs_project_improvement_idx IS 'GET /runs?sort=-improvement';
