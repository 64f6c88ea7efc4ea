-- optruns:no-transaction
-- 0017 — the list's four order indexes carry each run's tags, so a tag search that walks the order reads the index
-- alone.
--
-- A common search walks the order's index under row-level security (RunListQueries.Search.cs) and filters; its GIN
-- index is kept from the statement by RLS. The walk fetched every row it passed from the heap to test its tags: one
-- in a hundred matching, 2,100 rows for a page of 21, 2.0–3.4 ms on the 10 M-sample database. With the tags in the
-- order's index the walk of a search by tags alone is an index-only scan on all-visible pages, and the page's rows
-- are read by key after it: 0.8–1.1 ms for those 2,100 (BENCHMARKS.md, "A tag search walks the index alone"). The
-- key columns are unchanged, so each index still gives its order and keyset pages; tags are an INCLUDE column, not
-- part of the key (a run's tags rarely change, and updates that do not change them stay as they were).
--
-- Online: outside a transaction (the marker above), each index is built CONCURRENTLY beside the old one under a new
-- name, the old one dropped CONCURRENTLY, and the new one renamed to the old name (a rename takes only a
-- SHARE UPDATE EXCLUSIVE lock), so reads and writes go on throughout. Run again after a stop part-way, it completes:
-- a group stopped between the old index's drop and the rename is renamed first (so the order keeps an index), a
-- half-built (INVALID) index left by a stop is dropped, and an index already done is built once more.
--
-- An index entry holds at most 2,704 bytes, so a run's tags are limited to 2,000 bytes together since this release
-- (Limits.MaxTagBytes, checked when a run is created or its tags change). A run stored before with more would fail
-- the build; the first statement refuses instead, before anything is built, saying how many there are.

DO $$
DECLARE
    oversized constant bigint := (SELECT count(*) FROM optimization_runs WHERE octet_length(array_to_string(tags, '')) > 2000);
BEGIN
    IF oversized > 0 THEN
        RAISE EXCEPTION '0017: % run(s) have tags of more than 2,000 bytes together, which an index entry cannot hold', oversized
            USING HINT = 'Shorten them (SELECT id, tags FROM optimization_runs WHERE octet_length(array_to_string(tags, '''')) > 2000), then migrate again.';
    END IF;
END
$$;

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_created_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_created_tags_idx')) THEN
        ALTER INDEX optimization_runs_project_created_tags_idx RENAME TO optimization_runs_project_created_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_created_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_created_tags_idx ON optimization_runs (project_id, created_at DESC, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_created_idx;
ALTER INDEX optimization_runs_project_created_tags_idx RENAME TO optimization_runs_project_created_idx;
COMMENT ON INDEX optimization_runs_project_created_idx IS 'GET /runs sort=-createdAt, keyset (created_at, id); tags for a search''s walk';

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_final_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_final_tags_idx')) THEN
        ALTER INDEX optimization_runs_project_final_tags_idx RENAME TO optimization_runs_project_final_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_final_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_final_tags_idx ON optimization_runs (project_id, final_score DESC NULLS LAST, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_final_idx;
ALTER INDEX optimization_runs_project_final_tags_idx RENAME TO optimization_runs_project_final_idx;
COMMENT ON INDEX optimization_runs_project_final_idx IS 'GET /runs?sort=-finalScore; tags for a search''s walk';

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_best_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_best_tags_idx')) THEN
        ALTER INDEX optimization_runs_project_best_tags_idx RENAME TO optimization_runs_project_best_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_best_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_best_tags_idx ON optimization_runs (project_id, best_score DESC NULLS LAST, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_best_idx;
ALTER INDEX optimization_runs_project_best_tags_idx RENAME TO optimization_runs_project_best_idx;
COMMENT ON INDEX optimization_runs_project_best_idx IS 'GET /runs?sort=-bestScore; tags for a search''s walk';

DO $$
BEGIN
    IF to_regclass('optimization_runs_project_improvement_idx') IS NULL AND (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('optimization_runs_project_improvement_tags_idx')) THEN
        ALTER INDEX optimization_runs_project_improvement_tags_idx RENAME TO optimization_runs_project_improvement_idx;
    END IF;
END
$$;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_improvement_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_improvement_tags_idx ON optimization_runs (project_id, improvement DESC NULLS LAST, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_improvement_idx;
ALTER INDEX optimization_runs_project_improvement_tags_idx RENAME TO optimization_runs_project_improvement_idx;
COMMENT ON INDEX optimization_runs_project_improvement_idx IS 'GET /runs?sort=-improvement; tags for a search''s walk';
