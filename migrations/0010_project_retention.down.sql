-- Undoes 0010: the retention policy goes; runs are kept again whatever their age.
DROP FUNCTION IF EXISTS retention_expired_runs(integer);
DROP FUNCTION IF EXISTS admin_set_project_retention(uuid, integer);
ALTER TABLE project_config DROP COLUMN IF EXISTS retention_days;
