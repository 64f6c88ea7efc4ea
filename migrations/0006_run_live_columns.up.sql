-- 0006 — the run's live progress as columns, so a run reads the same in a list as on its own.
-- Phase, message, latency percentiles and the last sign of life were known only to the run's grain (and its
-- checkpoint in grain storage); lists answered null for them. The grain, the run row's only writer, now
-- writes them with every commit of the run.

ALTER TABLE optimization_runs
    ADD COLUMN phase             text CHECK (length(phase) <= 200),
    ADD COLUMN message           text CHECK (length(message) <= 2000),
    ADD COLUMN p50_latency_ms    double precision CHECK (p50_latency_ms >= 0),
    ADD COLUMN p95_latency_ms    double precision CHECK (p95_latency_ms >= 0),
    ADD COLUMN last_heartbeat_at timestamptz;
