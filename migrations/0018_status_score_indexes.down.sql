-- optruns:no-transaction
-- Undoes 0018: a status in a score order walks the order's index and filters again.

DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_status_final_idx;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_status_best_idx;
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_status_improvement_idx;
