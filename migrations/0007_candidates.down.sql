-- Undoes 0007: the candidates table goes, with its policy, grants and every recorded candidate text.

DROP TABLE IF EXISTS optimization_candidates;
