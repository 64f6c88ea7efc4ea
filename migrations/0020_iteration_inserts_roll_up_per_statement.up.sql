-- 0020 — an INSERT of iterations rolls its runs up once per statement, not once per row.
--
-- 0001's two row triggers (best iteration, run roll-up) each lock the run, read all of its iterations again and
-- update the run row, for every inserted row: an INSERT of k iterations of one run (a sample batch announcing its
-- iterations) updated the run 2k times, and the benchmark loader's multi-run INSERTs spent ~95 % of their time
-- there (BENCHMARKS.md, "Where the iterations phase goes"). One statement-level trigger reads the inserted rows
-- from a transition table and does the same for each run once: the result is the same, since row triggers fire at
-- the end of the statement and recompute from all rows. Updates keep the row triggers: PostgreSQL allows no
-- transition table on an `UPDATE OF score, kind` trigger, and a plain `UPDATE` trigger would fire on the trigger's
-- own `is_best` updates.

CREATE FUNCTION optimization_iterations_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Lock the runs first and in one order, so concurrent writers see each other's committed rows and two
    -- statements over the same runs cannot deadlock. NO KEY UPDATE: see optimization_iterations_mark_best().
    PERFORM 1 FROM optimization_runs WHERE id IN (SELECT run_id FROM inserted) ORDER BY id FOR NO KEY UPDATE;

    -- One statement: the best iteration per run (only baseline and full evaluations, ties to the earlier
    -- iteration, as in mark_best), its is_best flags, and one update of each run with its best and its roll-up (as
    -- in optimization_iterations_rollup).
    WITH runs AS (SELECT DISTINCT run_id FROM inserted),
    best AS (
        SELECT r.run_id, b.iteration, b.score
        FROM runs r
        LEFT JOIN LATERAL (
            SELECT i.iteration, i.score
            FROM optimization_iterations i
            WHERE i.run_id = r.run_id AND i.kind IN ('baseline', 'full') AND i.score IS NOT NULL
            ORDER BY i.score DESC, i.iteration
            LIMIT 1) b ON true),
    flags AS (
        UPDATE optimization_iterations i
        SET is_best = (b.iteration IS NOT NULL AND i.iteration = b.iteration)
        FROM best b
        WHERE i.run_id = b.run_id
          AND i.is_best IS DISTINCT FROM (b.iteration IS NOT NULL AND i.iteration = b.iteration))
    UPDATE optimization_runs r
    SET best_score           = b.score,
        best_iteration       = b.iteration,
        completed_iterations = s.completed,
        current_iteration    = GREATEST(r.current_iteration, s.furthest),
        best_minibatch_score = s.best_minibatch,
        baseline_score       = COALESCE(r.baseline_score, s.baseline)
    FROM best b
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE i.score IS NOT NULL)                   AS completed,
               max(i.iteration)                                              AS furthest,
               max(i.score) FILTER (WHERE i.kind = 'minibatch')              AS best_minibatch,
               (array_agg(i.score ORDER BY i.iteration) FILTER (WHERE i.kind = 'baseline' AND i.score IS NOT NULL))[1]
                                                                             AS baseline
        FROM optimization_iterations i
        WHERE i.run_id = b.run_id) s
    WHERE r.id = b.run_id;
    RETURN NULL;
END
$$;

DROP TRIGGER optimization_iterations_mark_best ON optimization_iterations;
DROP TRIGGER optimization_iterations_rollup ON optimization_iterations;
CREATE TRIGGER optimization_iterations_mark_best AFTER UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_mark_best();
CREATE TRIGGER optimization_iterations_rollup AFTER UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_rollup();
CREATE TRIGGER optimization_iterations_inserted AFTER INSERT ON optimization_iterations
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION optimization_iterations_inserted();
