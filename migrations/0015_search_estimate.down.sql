-- Undoes 0015: the run list walks first again, without an estimate.

DROP FUNCTION search_run_estimate(text[], jsonb, jsonb, text);
