-- Undoes 0005: no search function, and the search indexes as 0001 made them.

DROP FUNCTION search_run_ids(text[], jsonb, jsonb, text, integer);

DROP INDEX optimization_runs_config_gin;
CREATE INDEX optimization_runs_config_gin ON optimization_runs USING gin (config jsonb_path_ops);
COMMENT ON INDEX optimization_runs_config_gin IS 'GET /runs?config=… : config @> $1';
DROP INDEX optimization_runs_metadata_gin;
CREATE INDEX optimization_runs_metadata_gin ON optimization_runs USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX optimization_runs_metadata_gin IS 'runs by metadata: metadata @> $1';
DROP INDEX optimization_runs_tags_gin;
CREATE INDEX optimization_runs_tags_gin ON optimization_runs USING gin (tags);
COMMENT ON INDEX optimization_runs_tags_gin IS 'GET /runs?tag=… : tags @> $1';
DROP INDEX optimization_runs_name_trgm;
CREATE INDEX optimization_runs_name_trgm ON optimization_runs USING gin (run_name gin_trgm_ops);
COMMENT ON INDEX optimization_runs_name_trgm IS 'GET /runs?q=… : run_name ILIKE %q%';

DROP EXTENSION IF EXISTS btree_gin;
