-- 0019 — drops 0005's search_run_ids(), the five-argument function that answers a search's ids in no order.
--
-- 0016 added the overload the run list calls since (the ids in the list's order) and kept 0005's for silos of the
-- release before, which still called it while a new release rolled out (expand–contract, docs/scaling.md). No silo
-- of a release since 0016 calls it, so it is contracted here.

DROP FUNCTION search_run_ids(text[], jsonb, jsonb, text, integer);
