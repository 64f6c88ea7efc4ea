-- 0016 — a search's ids in the list's order, so the run list reads a page's worth of them by key, not all of them.
--
-- A rare search (at most 1,000 matches; RunListQueries.Search.cs) read every match by key, sorted them and kept a
-- page: on the 10 M-sample database 614 matches cost 2.2–4.9 ms for the 21 rows shown, nearly all of it one descent
-- of the primary key per id (three buffers each). search_run_ids() already reads each match's row (a GIN match is
-- rechecked on the heap), so it can sort them for little more (+0.3 ms for 614); in the list's order a page is among
-- the first ids, and the list reads a page's worth or two by key (0.13 ms for 21, 0.2 for 42; BENCHMARKS.md,
-- "A search's page by key").
--
-- This overload takes the list's order, one of its four (each exactly the ORDER BY of the list's statement and
-- index), and answers the ids in it when they are all the matches (at most p_limit); callers keep the order by
-- WITH ORDINALITY. The five-argument function of 0005 stays for silos of the previous release (expand–contract,
-- docs/scaling.md); a later migration drops it. Same guarantees as 0005: the current project's runs only, at most
-- p_limit (≤ 10,000) ids, planned with the values.

CREATE FUNCTION search_run_ids(p_tags text[], p_config jsonb, p_metadata jsonb, p_name_pattern text, p_order text,
                               p_limit integer)
RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    -- A fixed clause per order, never text from the caller.
    order_by constant text := CASE p_order
        WHEN 'created_at' THEN 'created_at DESC, id DESC'
        WHEN 'final_score' THEN 'final_score DESC NULLS LAST, id DESC'
        WHEN 'best_score' THEN 'best_score DESC NULLS LAST, id DESC'
        WHEN 'improvement' THEN 'improvement DESC NULLS LAST, id DESC'
    END;
BEGIN
    IF order_by IS NULL THEN
        RAISE EXCEPTION 'search_run_ids: unknown order %', p_order USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The limit first, then the order: up to p_limit matches are all of them, sorted; past it the caller walks the
    -- list instead (RunListQueries.SearchLimit), so the order of an arbitrary p_limit matches costs no more reads.
    RETURN QUERY EXECUTE
        'SELECT id FROM (
             SELECT id, created_at, final_score, best_score, improvement FROM optimization_runs
             WHERE project_id = $1
               AND ($2 IS NULL OR tags @> $2)
               AND ($3 IS NULL OR config @> $3)
               AND ($4 IS NULL OR metadata @> $4)
               AND ($5 IS NULL OR run_name ILIKE $5)
             LIMIT $6) found
         ORDER BY ' || order_by
        USING app_current_project(), p_tags, p_config, p_metadata, p_name_pattern, LEAST(GREATEST(p_limit, 0), 10000);
END
$$;

REVOKE EXECUTE ON FUNCTION search_run_ids(text[], jsonb, jsonb, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_run_ids(text[], jsonb, jsonb, text, text, integer) TO optruns_service;
