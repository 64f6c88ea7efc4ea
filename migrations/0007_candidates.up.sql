-- 0007 — candidates are first-class: the instruction texts and demo sets a run proposed, per predictor.
-- An iteration's params name the candidate it chose per predictor ({"predictors": {"0": {"instruction": 2,
-- "demos": 3}}}); this table holds what those indexes stand for. A candidate is written once and never changes
-- (a repeat is a no-op, a different content a conflict), so it has no updated_at and the service may not update it.

CREATE TABLE optimization_candidates (
    run_id      uuid NOT NULL,
    project_id  uuid NOT NULL,
    -- DSPy's predictor index or name, as the iterations' params spell it.
    predictor   text NOT NULL CHECK (length(predictor) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('instruction', 'demos')),
    idx         integer NOT NULL CHECK (idx >= 0),
    -- An instruction's text; the API also bounds a demo set's JSON text to 200 KB.
    text        text CHECK (length(text) BETWEEN 1 AND 20000),
    demos       jsonb CHECK (demos IS NULL
                    OR CASE WHEN jsonb_typeof(demos) = 'array' THEN jsonb_array_length(demos) <= 100 ELSE false END),
    created_at  timestamptz NOT NULL DEFAULT now(),

    -- Serves: GET /runs/{id}/candidates (the run's rows in order), and the identity of a repeat.
    CONSTRAINT optimization_candidates_pk PRIMARY KEY (run_id, predictor, kind, idx),
    CONSTRAINT optimization_candidates_run_fk FOREIGN KEY (run_id, project_id)
        REFERENCES optimization_runs (id, project_id) ON DELETE CASCADE,
    -- An instruction has a text and no demos; a demo set the other way round.
    CONSTRAINT optimization_candidates_content CHECK (CASE kind
        WHEN 'instruction' THEN text IS NOT NULL AND demos IS NULL
        ELSE demos IS NOT NULL AND text IS NULL END)
);
COMMENT ON INDEX optimization_candidates_pk IS
    'GET /runs/{id}/candidates: WHERE run_id = $1; POST …/candidates: ON CONFLICT (run_id, predictor, kind, idx); cascade from the run by its run_id prefix';
-- Serves: the run_id FK cascade from optimization_runs (id, project_id), through the primary key's run_id prefix.
COMMENT ON CONSTRAINT optimization_candidates_run_fk ON optimization_candidates IS 'cascade: run → candidates';

ALTER TABLE optimization_candidates ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_isolation ON optimization_candidates
    USING (project_id = app_current_project()) WITH CHECK (project_id = app_current_project());

-- No UPDATE: a recorded candidate never changes. DELETE for deletes the service may make of its own runs' rows.
GRANT SELECT, INSERT, DELETE ON optimization_candidates TO optruns_service;
