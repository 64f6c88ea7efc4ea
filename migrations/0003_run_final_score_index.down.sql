-- 0003_run_final_score_index.down.sql
-- Reverts 0003_run_final_score_index.up.sql.

DROP INDEX optimization_runs_project_final_idx;
