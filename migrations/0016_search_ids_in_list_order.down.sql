-- Undoes 0016: searches answer their ids in no order again (0005's function, which 0016 kept).

DROP FUNCTION search_run_ids(text[], jsonb, jsonb, text, text, integer);
