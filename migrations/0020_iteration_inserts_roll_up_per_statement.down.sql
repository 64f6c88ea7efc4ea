-- Undoes 0020: 0001's two row triggers on INSERT and on an update of score or kind again (their functions were
-- kept), and 0020's triggers and functions go.

DROP TRIGGER optimization_iterations_inserted ON optimization_iterations;
DROP TRIGGER optimization_iterations_changed ON optimization_iterations;
DROP FUNCTION optimization_iterations_inserted();
DROP FUNCTION optimization_iterations_changed();
DROP FUNCTION optimization_run_roll_up(uuid);
CREATE TRIGGER optimization_iterations_mark_best AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_mark_best();
CREATE TRIGGER optimization_iterations_rollup AFTER INSERT OR UPDATE OF score, kind ON optimization_iterations
    FOR EACH ROW EXECUTE FUNCTION optimization_iterations_rollup();
