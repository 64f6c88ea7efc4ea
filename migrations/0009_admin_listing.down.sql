-- 0009_admin_listing.down.sql
-- Reverts 0009_admin_listing.up.sql.

DROP FUNCTION admin_list_api_keys(uuid);
DROP FUNCTION admin_list_projects(integer, timestamptz, uuid, uuid);
