-- Undoes 0019: 0005's search_run_ids() again, as 0005 made it, for a silo of a release before 0016.

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
