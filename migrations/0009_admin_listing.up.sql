-- 0009 — the admin can find projects and keys again (GET /api/projects, GET /api/projects/{id}/keys).
-- The service role sees project_config and project_api_keys only under a project (RLS), so listings across
-- projects go through SECURITY DEFINER functions, like the other admin-path operations of 0001. A key's hash never
-- leaves the database: the functions answer its id, name, prefix and times only.

-- Projects newest first, keyset-paged by (created_at, id), with their key counts; with p_id, that project only.
CREATE FUNCTION admin_list_projects(p_limit integer, p_after_created_at timestamptz DEFAULT NULL, p_after_id uuid DEFAULT NULL,
    p_id uuid DEFAULT NULL)
RETURNS TABLE (id uuid, name text, created_at timestamptz, api_keys bigint, active_api_keys bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT p.id, p.name, p.created_at,
           (SELECT count(*) FROM project_api_keys k WHERE k.project_id = p.id),
           (SELECT count(*) FROM project_api_keys k WHERE k.project_id = p.id AND k.revoked_at IS NULL)
    FROM project_config p
    WHERE (p_id IS NULL OR p.id = p_id)
      AND (p_after_created_at IS NULL OR (p.created_at, p.id) < (p_after_created_at, p_after_id))
    ORDER BY p.created_at DESC, p.id DESC
    LIMIT p_limit
$$;

-- A project's keys in the order they were created (served by project_api_keys_project_idx).
CREATE FUNCTION admin_list_api_keys(p_project_id uuid)
RETURNS TABLE (id uuid, name text, prefix text, created_at timestamptz, last_used_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT k.id, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at
    FROM project_api_keys k
    WHERE k.project_id = p_project_id
    ORDER BY k.created_at, k.id
$$;

REVOKE EXECUTE ON FUNCTION admin_list_projects(integer, timestamptz, uuid, uuid), admin_list_api_keys(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_list_projects(integer, timestamptz, uuid, uuid), admin_list_api_keys(uuid) TO optruns_service;
