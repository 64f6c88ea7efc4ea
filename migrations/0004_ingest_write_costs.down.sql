-- Undoes 0004: the default collation for trace and span ids, the default fill factor, and the
-- active-runs index as 0001 made it.

ALTER TABLE optimization_iterations
    ALTER COLUMN trace_id TYPE text COLLATE "default",
    ALTER COLUMN span_id TYPE text COLLATE "default";
ALTER TABLE optimization_samples
    ALTER COLUMN trace_id TYPE text COLLATE "default",
    ALTER COLUMN span_id TYPE text COLLATE "default";

ALTER TABLE optimization_runs RESET (fillfactor);
-- Serves: the stall sweep and dashboards of live runs (few rows: a partial index stays tiny).
CREATE INDEX optimization_runs_active_idx ON optimization_runs (project_id, updated_at)
    WHERE status IN ('running', 'stalled');
COMMENT ON INDEX optimization_runs_active_idx IS 'active (running or stalled) runs of a project';
