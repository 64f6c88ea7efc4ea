-- 0013_drop_params_gin.down.sql
-- Reverts 0013_drop_params_gin.up.sql: the index as 0001 created it.

CREATE INDEX optimization_iterations_params_gin ON optimization_iterations USING gin (params jsonb_path_ops);
COMMENT ON INDEX optimization_iterations_params_gin IS 'iterations by chosen candidate: params @> $1';
