-- 0015 — the planner's estimate of a search, so the run list knows before reading which way is cheaper.
--
-- A search of the run list (tags, config, metadata, name; RunListQueries.Search.cs) has two ways to its page under
-- row-level security: walk the order's index and filter (cheap when one run in a few matches), or ask
-- search_run_ids() (0005) for every match along the GIN index and read those by key (cheap when few match). The list
-- used to walk first and search when the walk came back short: a rare search paid for both (BENCHMARKS.md, "Searches
-- decided by the planner's estimate": at 10 M samples a rare two-tag search walked 2,100 rows, p95 5.6 ms against 2.0
-- as the owner, who has the GIN index in one statement).
--
-- search_run_estimate() answers what the planner expects: how many of the current project's runs match, and how many
-- runs the project has. It plans the statement search_run_ids() runs, with the values (EXPLAIN of EXECUTE … USING),
-- from the table's statistics, without reading a row. It runs as its owner, like search_run_ids(): as the service
-- the policy's own project_id clause would be counted a second time, shrinking every estimate by the project's share.
-- VOLATILE because PostgreSQL allows EXPLAIN only there; it reads statistics, not rows, and writes nothing.
-- What it answers comes from table-wide statistics (ANALYZE's sample of every project), never from a row of another
-- project; the silo uses it only to choose a statement, and no client sees it.

CREATE FUNCTION search_run_estimate(p_tags text[], p_config jsonb, p_metadata jsonb, p_name_pattern text,
                                    OUT matches double precision, OUT runs double precision)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE
        'EXPLAIN (FORMAT JSON) SELECT id FROM optimization_runs
         WHERE project_id = $1
           AND ($2 IS NULL OR tags @> $2)
           AND ($3 IS NULL OR config @> $3)
           AND ($4 IS NULL OR metadata @> $4)
           AND ($5 IS NULL OR run_name ILIKE $5)'
        INTO plan USING app_current_project(), p_tags, p_config, p_metadata, p_name_pattern;
    matches := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT id FROM optimization_runs WHERE project_id = $1'
        INTO plan USING app_current_project();
    runs := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
END
$$;

REVOKE EXECUTE ON FUNCTION search_run_estimate(text[], jsonb, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_run_estimate(text[], jsonb, jsonb, text) TO optruns_service;
