-- Runs with step, asset or run events in the batch's id range: their step
-- executions and run rows are recomputed from all their events.
-- $1, $2: lowest and highest event id of the batch.
CREATE OR REPLACE TEMP TABLE touched_runs AS
SELECT DISTINCT run_id FROM (
    SELECT run_id FROM step_events WHERE event_id BETWEEN $1 AND $2
    UNION ALL SELECT run_id FROM materializations WHERE event_id BETWEEN $1 AND $2
    UNION ALL SELECT run_id FROM materialization_planned WHERE event_id BETWEEN $1 AND $2
    UNION ALL SELECT run_id FROM run_events WHERE event_id BETWEEN $1 AND $2
) WHERE run_id IS NOT NULL;
