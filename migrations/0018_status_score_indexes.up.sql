-- optruns:no-transaction
-- 0018 — a run list filtered by status in a score order reads an index of its own.
--
-- GET /runs?status=…&sort=-finalScore (or -bestScore, -improvement) had no index in that order. The planner walked
-- the order's index and filtered on the status, expecting a status as common among the best scores as anywhere. It
-- is not: a run has no final score until it completes, so every running, failed or cancelled run sorts after every
-- scored one, and the walk passed all of a project's scored runs first. On the 10 M-sample database (34,160 runs in
-- the project) "failed, by final score" took 27 ms planned for its value and "running" 28 ms on the generic plan
-- (BENCHMARKS.md, "A status in a score order"). With (project_id, status, score, id) the page is an index range, for
-- every status, on the plan for the value and on the generic plan alike (RunListQueries.RunsOnGenericPlan).
--
-- Online: outside a transaction (the marker above), each index built CONCURRENTLY, so reads and writes go on. Run
-- again after a stop part-way, it completes: an index a stop left half-built (INVALID), or one already done, is
-- dropped and built again.

-- Serves: GET /runs?status=…&sort=-finalScore, keyset (final_score, id), unscored runs last.
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_status_final_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_status_final_idx
    ON optimization_runs (project_id, status, final_score DESC NULLS LAST, id DESC);
COMMENT ON INDEX optimization_runs_project_status_final_idx IS 'GET /runs?status=…&sort=-finalScore';

-- Serves: GET /runs?status=…&sort=-bestScore, keyset (best_score, id), unscored runs last.
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_status_best_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_status_best_idx
    ON optimization_runs (project_id, status, best_score DESC NULLS LAST, id DESC);
COMMENT ON INDEX optimization_runs_project_status_best_idx IS 'GET /runs?status=…&sort=-bestScore';

-- Serves: GET /runs?status=…&sort=-improvement, keyset (improvement, id), unscored runs last.
DROP INDEX CONCURRENTLY IF EXISTS optimization_runs_project_status_improvement_idx;
CREATE INDEX CONCURRENTLY optimization_runs_project_status_improvement_idx
    ON optimization_runs (project_id, status, improvement DESC NULLS LAST, id DESC);
COMMENT ON INDEX optimization_runs_project_status_improvement_idx IS 'GET /runs?status=…&sort=-improvement';
