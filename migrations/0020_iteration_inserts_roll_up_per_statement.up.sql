-- 0020 — an INSERT of iterations rolls its runs up once per statement, not once per row.
--
-- 0001's two row triggers (best iteration, run roll-up) each lock the run, read all of its iterations again and
-- update the run row, for every inserted row: an INSERT of k iterations of one run (a sample batch announcing its
-- iterations) updated the run up to 2k times, and the benchmark loader's multi-run INSERTs spent ~95 % of their time
-- there (BENCHMARKS.md, "Where the iterations phase goes"). One statement-level trigger reads the inserted rows
-- from a transition table and does the same for each run once: the result is the same, since row triggers fire at
-- the end of the statement and recompute from all rows. An update of score or kind stays a row trigger (PostgreSQL
-- allows no transition table on an `UPDATE OF` trigger, and a plain `UPDATE` trigger would fire on the roll-up's own
-- `is_best` updates), now one trigger that updates the run once instead of two that updated it twice. Both call
-- optimization_run_roll_up(), the one place the roll-up is defined from here on; 0001's functions stay for the
-- down script.

-- A run's best iteration and statistics, recomputed from its rows: the best is a baseline or full evaluation
-- (a minibatch score is a noisy estimate), ties to the earlier iteration; completed trials, the furthest trial
-- seen, the best minibatch estimate, and the baseline score when the client did not give one. One update of the run.
CREATE FUNCTION optimization_run_roll_up(p_run_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    best record;
    stats record;
BEGIN
    -- Lock the run first, so concurrent writers of one run see each other's committed rows. NO KEY UPDATE, not
    -- UPDATE: each writer's foreign-key check already holds KEY SHARE on the run, and FOR UPDATE conflicts with it,
    -- so two writers of one run would deadlock.
    PERFORM 1 FROM optimization_runs WHERE id = p_run_id FOR NO KEY UPDATE;

    SELECT iteration, score INTO best
    FROM optimization_iterations
    WHERE run_id = p_run_id AND kind IN ('baseline', 'full') AND score IS NOT NULL
    ORDER BY score DESC, iteration
    LIMIT 1;

    UPDATE optimization_iterations
    SET is_best = (best.iteration IS NOT NULL AND iteration = best.iteration)
    WHERE run_id = p_run_id
      AND is_best IS DISTINCT FROM (best.iteration IS NOT NULL AND iteration = best.iteration);

    SELECT count(*) FILTER (WHERE score IS NOT NULL)                         AS completed,
           max(iteration)                                                    AS furthest,
           max(score) FILTER (WHERE kind = 'minibatch')                      AS best_minibatch,
           (array_agg(score ORDER BY iteration) FILTER (WHERE kind = 'baseline' AND score IS NOT NULL))[1]
                                                                             AS baseline
    INTO stats
    FROM optimization_iterations
    WHERE run_id = p_run_id;

    UPDATE optimization_runs
    SET best_score           = best.score,
        best_iteration       = best.iteration,
        completed_iterations = stats.completed,
        current_iteration    = GREATEST(current_iteration, stats.furthest),
        best_minibatch_score = stats.best_minibatch,
        baseline_score       = COALESCE(baseline_score, stats.baseline)
    WHERE id = p_run_id;
END
$$;

-- Run by run in id order, so two statements over the same runs cannot deadlock, and with the run as a parameter,
-- so each query is planned for the run's keys whatever the statistics say (one join over the transition table was
-- planned as a scan of all iterations while the statistics said there were none).
CREATE FUNCTION optimization_iterations_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    run uuid;
BEGIN
    FOR run IN SELECT DISTINCT run_id FROM inserted ORDER BY run_id LOOP
        PERFORM optimization_run_roll_up(run);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION optimization_iterations_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM optimization_run_roll_up(NEW.run_id);
    RETURN NULL;
END
$$;

-- The trigger functions run as the writer, who calls the roll-up: granted by name, as 0001 grants its functions,
-- not left to PUBLIC's default (a server whose defaults revoke it would refuse every iteration write).
REVOKE EXECUTE ON FUNCTION optimization_run_roll_up(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION optimization_run_roll_up(uuid) TO optruns_service;

DROP TRIGGER optimization_iterations_mark_best ON optimization_iterations;
DROP TRIGGER optimization_iterations_rollup ON optimization_iterations;
CREATE TRIGGER optimization_iterations_changed AFTER UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_changed();
CREATE TRIGGER optimization_iterations_inserted AFTER INSERT ON optimization_iterations
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION optimization_iterations_inserted();
