-- 0005 — the run list's searches use their indexes under row-level security.
--
-- 1. The service role reads optimization_runs under the policy project_id = app_current_project(). The searches
--    tags @> (arraycontains), config and metadata @> (jsonb_contains) and run_name ILIKE (texticlike) are not
--    LEAKPROOF, so PostgreSQL does not use them as index conditions below the policy's security barrier: the GIN
--    and trigram indexes served the owner only, and a rare search by the service read the project's runs one by
--    one (BENCHMARKS.md: 7–11 ms for a rare tag pair at the seed's size, 29–80 ms at 10×; 0.3–0.8 ms as the
--    owner). Marking the operators LEAKPROOF needs a superuser, which a user's own PostgreSQL need not give us.
--
--    search_run_ids() runs the search as its owner, where the indexes apply, and answers ids only:
--    * it filters on app_current_project() itself, so it never answers another project's run, and answers
--      nothing when no project is set;
--    * it answers at most p_limit ids (≤ 10,000), so a search that matches many runs costs a bounded read;
--    * RunListQueries reads the runs it names under RLS with every filter again (id = ANY(…) AND tags @> … AND …),
--      so the function can narrow what the service reads, never widen it.
--    Its statement is planned on every call with the values (EXECUTE … USING): the planner sees the project and
--    the search values, and the clauses of the criteria not given fold away ($n IS NULL is true). A plan cached
--    for any value would guess.
--
-- 2. The four search indexes lead with project_id (GIN over a uuid: btree_gin, a trusted extension, so the
--    migration role may create it). With the search value alone, the planner intersected the GIN's matches of
--    every project with the project's whole B-tree range (a BitmapAnd over 34K entries, 4–8 ms at 10×) or read
--    every project's matches from the table; now the GIN answers the project's matches only (0.7–0.8 ms).
--    Same names and the same queries; only the leading column is new. CREATE INDEX blocks writes to
--    optimization_runs while it builds (a second or so per million runs and index).

CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Serves: GET /runs?config=… (search_run_ids(): project_id = $1 AND config @> $2).
DROP INDEX optimization_runs_config_gin;
CREATE INDEX optimization_runs_config_gin ON optimization_runs USING gin (project_id, config jsonb_path_ops);
COMMENT ON INDEX optimization_runs_config_gin IS 'GET /runs?config=… : project_id = $1 AND config @> $2 in search_run_ids()';
-- Serves: GET /runs?metadata=… (search_run_ids(): project_id = $1 AND metadata @> $2).
DROP INDEX optimization_runs_metadata_gin;
CREATE INDEX optimization_runs_metadata_gin ON optimization_runs USING gin (project_id, metadata jsonb_path_ops);
COMMENT ON INDEX optimization_runs_metadata_gin IS 'GET /runs?metadata=… : project_id = $1 AND metadata @> $2 in search_run_ids()';
-- Serves: GET /runs?tag=a&tag=b (search_run_ids(): project_id = $1 AND tags @> $2, all must match).
DROP INDEX optimization_runs_tags_gin;
CREATE INDEX optimization_runs_tags_gin ON optimization_runs USING gin (project_id, tags);
COMMENT ON INDEX optimization_runs_tags_gin IS 'GET /runs?tag=… : project_id = $1 AND tags @> $2 in search_run_ids()';
-- Serves: GET /runs?q=… (search_run_ids(): project_id = $1 AND run_name ILIKE %q%).
DROP INDEX optimization_runs_name_trgm;
CREATE INDEX optimization_runs_name_trgm ON optimization_runs USING gin (project_id, run_name gin_trgm_ops);
COMMENT ON INDEX optimization_runs_name_trgm IS 'GET /runs?q=… : project_id = $1 AND run_name ILIKE %q% in search_run_ids()';

-- Serves: GET /runs?tag=…&config=…&metadata=…&q=… when the list's order does not soon meet the matches
-- (RunListQueries): the ids of the current project's runs that match every criterion given, any order.
CREATE FUNCTION search_run_ids(p_tags text[], p_config jsonb, p_metadata jsonb, p_name_pattern text, p_limit integer)
RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT id FROM optimization_runs
         WHERE project_id = $1
           AND ($2 IS NULL OR tags @> $2)
           AND ($3 IS NULL OR config @> $3)
           AND ($4 IS NULL OR metadata @> $4)
           AND ($5 IS NULL OR run_name ILIKE $5)
         LIMIT $6'
        USING app_current_project(), p_tags, p_config, p_metadata, p_name_pattern, LEAST(GREATEST(p_limit, 0), 10000);
END
$$;

REVOKE EXECUTE ON FUNCTION search_run_ids(text[], jsonb, jsonb, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_run_ids(text[], jsonb, jsonb, text, integer) TO optruns_service;
