-- Undoes 0006: the live progress columns go; the grains keep it in grain storage only.

ALTER TABLE optimization_runs
    DROP COLUMN phase,
    DROP COLUMN message,
    DROP COLUMN p50_latency_ms,
    DROP COLUMN p95_latency_ms,
    DROP COLUMN last_heartbeat_at;
