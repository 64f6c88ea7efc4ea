-- Undoes 0001: drops the tracking schema. Every row of every project goes with it.

DROP FUNCTION IF EXISTS authenticate_api_key(bytea);
DROP FUNCTION IF EXISTS admin_revoke_api_key(uuid, uuid);
DROP FUNCTION IF EXISTS admin_create_api_key(uuid, text, text, bytea);
DROP FUNCTION IF EXISTS admin_create_project(uuid, text);
DROP FUNCTION IF EXISTS refresh_run_analytics();
DROP FUNCTION IF EXISTS project_run_analytics();
DROP MATERIALIZED VIEW IF EXISTS optimization_run_analytics;
DROP FUNCTION IF EXISTS update_run_progress(uuid, integer, integer);
DROP FUNCTION IF EXISTS top_runs(text, integer);
DROP FUNCTION IF EXISTS run_summary(uuid);

DROP TABLE IF EXISTS optimization_samples;
DROP TABLE IF EXISTS optimization_iterations;
DROP TABLE IF EXISTS optimization_runs;
DROP TABLE IF EXISTS project_api_keys;
DROP TABLE IF EXISTS project_config;

DROP FUNCTION IF EXISTS optimization_iterations_rollup();
DROP FUNCTION IF EXISTS optimization_iterations_mark_best();
DROP FUNCTION IF EXISTS optimization_runs_status_times();
DROP FUNCTION IF EXISTS set_updated_at();
DROP FUNCTION IF EXISTS app_current_project();

DROP EXTENSION IF EXISTS pg_trgm;
REVOKE USAGE ON SCHEMA public FROM optruns_service;
