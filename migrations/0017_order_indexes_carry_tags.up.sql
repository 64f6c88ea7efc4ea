-- optruns:no-transaction
-- 0017 — the list's four order indexes carry each run's tags, so a tag search that walks the order reads the index
-- alone.
--
-- A common search walks the order's index under row-level security (RunListQueries.Search.cs) and filters; its GIN
-- index is kept from the statement by RLS. The walk fetched every row it passed from the heap to test its tags: one
-- in a hundred matching, 2,100 rows for a page of 21, 2.0–3.4 ms on the 10 M-sample database. With the tags in the
-- order's index the walk is an index-only scan (0.3–0.5 ms for those 2,100) and the page's rows are read by key
-- after it (BENCHMARKS.md, "A tag search walks the index alone"). The key columns are unchanged, so each index
-- still gives its order and keyset pages; tags are an INCLUDE column, not part of the key (a run's tags rarely
-- change, and updates that do not change them stay as they were).
--
-- Online: outside a transaction (the marker above), each index is built CONCURRENTLY beside the old one under a new
-- name, the old one dropped CONCURRENTLY, and the new one renamed to the old name (a rename takes only a
-- SHARE UPDATE EXCLUSIVE lock), so reads and writes go on throughout. Run again after a stop part-way, it completes:
-- the first statement of each group drops a half-built index left by the stop, and an index already done is built
-- once more.

DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_created_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_created_tags_idx ON optimization_runs (project_id, created_at DESC, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_created_idx;
ALTER INDEX optimization_runs_project_created_tags_idx RENAME TO optimization_runs_project_created_idx;
COMMENT ON INDEX optimization_runs_project_created_idx IS 'GET /runs sort=-createdAt, keyset (created_at, id); tags for a search''s walk';

DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_final_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_final_tags_idx ON optimization_runs (project_id, final_score DESC NULLS LAST, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_final_idx;
ALTER INDEX optimization_runs_project_final_tags_idx RENAME TO optimization_runs_project_final_idx;
COMMENT ON INDEX optimization_runs_project_final_idx IS 'GET /runs?sort=-finalScore; tags for a search''s walk';

DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_best_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_best_tags_idx ON optimization_runs (project_id, best_score DESC NULLS LAST, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_best_idx;
ALTER INDEX optimization_runs_project_best_tags_idx RENAME TO optimization_runs_project_best_idx;
COMMENT ON INDEX optimization_runs_project_best_idx IS 'GET /runs?sort=-bestScore; tags for a search''s walk';

DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_improvement_tags_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_improvement_tags_idx ON optimization_runs (project_id, improvement DESC NULLS LAST, id DESC) INCLUDE (tags);
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_improvement_idx;
ALTER INDEX optimization_runs_project_improvement_tags_idx RENAME TO optimization_runs_project_improvement_idx;
COMMENT ON INDEX optimization_runs_project_improvement_idx IS 'GET /runs?sort=-improvement; tags for a search''s walk';
