-- 0008 — a run's examples aggregated from an index alone (GET /runs/{id}/examples).
-- The examples page aggregates every sample of the run per example. Read from the table, each of a heavy run's
-- ~13,000 samples is a wide heap row (inputs, expected, prediction) whose row-level-security check evaluates
-- app_current_project() per row: as optruns_service the page cost ~40 ms of backend CPU on the benchmark's 50-trial
-- run (bench/run-analysis.sh). These indexes hold what the aggregation reads, keyed by (run, project, …): an index-only
-- scan, in which project_id = app_current_project() is an index condition evaluated once, brought it to ~9 ms.
--
-- Partial, so they serve that query only: the examples query states example_id IS NOT NULL (and, for samples grouped
-- by their inputs, IS NULL); keyset pages of a run's samples state neither, and keep walking the primary key in order
-- instead of reading one of these and sorting the whole run. Every sample enters one of the two: copying 200,000
-- samples took 3.5–4.0 s with them against 3.1–3.7 s without.

-- Serves: GET /runs/{id}/examples, samples with an example id: index-only aggregation per example.
CREATE INDEX optimization_samples_examples_idx ON optimization_samples (run_id, project_id, example_id)
    INCLUDE (iteration, sample_index, score, success) WHERE example_id IS NOT NULL;
COMMENT ON INDEX optimization_samples_examples_idx IS 'GET /runs/{id}/examples: index-only aggregation per example id; project_id makes the RLS check an index condition';

-- Serves: GET /runs/{id}/examples, samples without an example id (grouped by the hash of their inputs).
CREATE INDEX optimization_samples_unnamed_examples_idx ON optimization_samples (run_id, project_id) WHERE example_id IS NULL;
COMMENT ON INDEX optimization_samples_unnamed_examples_idx IS 'GET /runs/{id}/examples: the samples without an example id';
