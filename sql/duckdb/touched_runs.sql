-- Runs with any event at or above $1, the lowest id not yet derived (the
-- batches loaded since the last derivation, and rows an earlier run loaded
-- above a late-committed one): their step executions, run rows, outputs and
-- reads are recomputed from all their events. first_event_id is the run's lowest id here; run_spans.sql lowers it
-- to the lowest ever loaded.
CREATE OR REPLACE TEMP TABLE touched_runs AS
SELECT run_id, min(event_id) AS first_event_id FROM (
    SELECT run_id, event_id FROM step_events WHERE event_id >= $1
    UNION ALL SELECT run_id, event_id FROM materializations WHERE event_id >= $1
    UNION ALL SELECT run_id, event_id FROM materialization_planned WHERE event_id >= $1
    UNION ALL SELECT run_id, event_id FROM run_events WHERE event_id >= $1
    UNION ALL SELECT run_id, event_id FROM handled_outputs WHERE event_id >= $1
    UNION ALL SELECT run_id, event_id FROM asset_reads WHERE event_id >= $1
    UNION ALL SELECT run_id, event_id FROM observations WHERE event_id >= $1
) WHERE run_id IS NOT NULL
GROUP BY run_id;
