-- 0010 — per-project retention (retentionDays, set through the admin API): finished runs older than the limit are
-- exported and then deleted by the retention grain (src/Grains/Maintenance). NULL keeps everything, as before.

ALTER TABLE project_config ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 1 AND 36500);

-- The admin path sets it; the service role only reads project_config.
CREATE FUNCTION admin_set_project_retention(p_project_id uuid, p_retention_days integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE project_config SET retention_days = p_retention_days WHERE id = p_project_id;
    RETURN FOUND;
END
$$;

-- Across projects, so past RLS: which finished runs are past their project's limit, the longest finished first.
-- A run counts as finished from its end_time (set when it reached completed, failed or cancelled).
CREATE FUNCTION retention_expired_runs(p_limit integer)
RETURNS TABLE (project_id uuid, run_id uuid, ended_at timestamptz, samples bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT r.project_id, r.id, r.end_time, r.samples_evaluated
    FROM optimization_runs r JOIN project_config p ON p.id = r.project_id
    WHERE p.retention_days IS NOT NULL
      AND r.status IN ('completed', 'failed', 'cancelled')
      AND r.end_time < now() - make_interval(days => p.retention_days)
    ORDER BY r.end_time
    LIMIT p_limit
$$;

REVOKE EXECUTE ON FUNCTION admin_set_project_retention(uuid, integer), retention_expired_runs(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_set_project_retention(uuid, integer), retention_expired_runs(integer) TO optruns_service;
