-- 0004 — cheaper writes on the ingest path, measured by bench/ingest.sh (see BENCHMARKS.md).
--
-- 1. Every group commit updates its run's row (counters, tokens, cost). optimization_runs_active_idx
--    indexed updated_at, which changes on every update, so no update could be HOT and each one
--    touched every index of the table. No query needs it: lists of running or stalled runs are
--    served by optimization_runs_project_status_created_idx. Dropped; and the table leaves room on
--    its pages so the frequent updates can stay on the same page (HOT).
-- 2. Trace and span ids are lower-case hex: byte order ("C") compares them as well as the database's
--    linguistic collation does, at a fraction of the cost per comparison on every insert.

DROP INDEX optimization_runs_active_idx;
ALTER TABLE optimization_runs SET (fillfactor = 80);

ALTER TABLE optimization_samples
    ALTER COLUMN trace_id TYPE text COLLATE "C",
    ALTER COLUMN span_id TYPE text COLLATE "C";
ALTER TABLE optimization_iterations
    ALTER COLUMN trace_id TYPE text COLLATE "C",
    ALTER COLUMN span_id TYPE text COLLATE "C";
