-- 0003 — the run list sorted by final score over every status.
-- optimization_runs_leaderboard_idx (0001) is partial (completed runs only), so it serves the leaderboard and
-- GET /runs?status=completed&sort=-finalScore but not the unfiltered -finalScore order, which sorted every run
-- of the project. This index gives that order and its keyset pages.

-- Serves: GET /runs?sort=-finalScore, keyset (final_score, id), unscored runs last.
CREATE INDEX optimization_runs_project_final_idx ON optimization_runs (project_id, final_score DESC NULLS LAST, id DESC);
COMMENT ON INDEX optimization_runs_project_final_idx IS 'GET /runs?sort=-finalScore';
