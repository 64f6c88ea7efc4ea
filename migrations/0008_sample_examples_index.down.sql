-- 0008_sample_examples_index.down.sql
-- Reverts 0008_sample_examples_index.up.sql.

DROP INDEX optimization_samples_unnamed_examples_idx;
DROP INDEX optimization_samples_examples_idx;
