-- Undoes 0020: 0001's row triggers fire on INSERT again, and the statement-level trigger goes.

DROP TRIGGER optimization_iterations_inserted ON optimization_iterations;
DROP FUNCTION optimization_iterations_inserted();
DROP TRIGGER optimization_iterations_mark_best ON optimization_iterations;
DROP TRIGGER optimization_iterations_rollup ON optimization_iterations;
CREATE TRIGGER optimization_iterations_mark_best AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_mark_best();
CREATE TRIGGER optimization_iterations_rollup AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_rollup();
