-- 0020 — an INSERT of iterations rolls its runs up once per statement, not once per row.
--
-- 0001's two row triggers (best iteration, run roll-up) each lock the run, read all of its iterations again and
-- update the run row, for every inserted row: an INSERT of k iterations of one run (a sample batch announcing its
-- iterations) updated the run up to 2k times, and the benchmark loader's multi-run INSERTs spent ~95 % of their time
-- there (BENCHMARKS.md, "Where the iterations phase goes"). One statement-level trigger reads the inserted rows
-- from a transition table and does the same for each run once: the result is the same, since row triggers fire at
-- the end of the statement and recompute from all rows. Updates keep the row triggers: PostgreSQL allows no
-- transition table on an `UPDATE OF score, kind` trigger, and a plain `UPDATE` trigger would fire on the trigger's
-- own `is_best` updates.

CREATE FUNCTION optimization_iterations_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    run uuid;
    best record;
    stats record;
BEGIN
    -- Run by run, in one order, so two statements over the same runs cannot deadlock, and with the run as a
    -- parameter, so each query is planned once for the run's keys whatever the tables' statistics say (a join over
    -- the transition table was planned as a scan of all iterations while the statistics said there were none).
    FOR run IN SELECT DISTINCT run_id FROM inserted ORDER BY run_id LOOP
        -- Lock the run first, so concurrent writers of one run see each other's committed rows. NO KEY UPDATE:
        -- see optimization_iterations_mark_best().
        PERFORM 1 FROM optimization_runs WHERE id = run FOR NO KEY UPDATE;

        -- The best iteration: only baseline and full evaluations, ties to the earlier (as in mark_best).
        SELECT iteration, score INTO best
        FROM optimization_iterations
        WHERE run_id = run AND kind IN ('baseline', 'full') AND score IS NOT NULL
        ORDER BY score DESC, iteration
        LIMIT 1;

        UPDATE optimization_iterations
        SET is_best = (best.iteration IS NOT NULL AND iteration = best.iteration)
        WHERE run_id = run
          AND is_best IS DISTINCT FROM (best.iteration IS NOT NULL AND iteration = best.iteration);

        -- The roll-up (as in optimization_iterations_rollup).
        SELECT count(*) FILTER (WHERE score IS NOT NULL)                         AS completed,
               max(iteration)                                                    AS furthest,
               max(score) FILTER (WHERE kind = 'minibatch')                      AS best_minibatch,
               (array_agg(score ORDER BY iteration) FILTER (WHERE kind = 'baseline' AND score IS NOT NULL))[1]
                                                                                 AS baseline
        INTO stats
        FROM optimization_iterations
        WHERE run_id = run;

        -- Both in one update of the run.
        UPDATE optimization_runs
        SET best_score           = best.score,
            best_iteration       = best.iteration,
            completed_iterations = stats.completed,
            current_iteration    = GREATEST(current_iteration, stats.furthest),
            best_minibatch_score = stats.best_minibatch,
            baseline_score       = COALESCE(baseline_score, stats.baseline)
        WHERE id = run;
    END LOOP;
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
