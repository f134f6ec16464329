-- Fill run_spans (and output_producers) for a matlens file written before
-- these tables existed; the loader runs it only when run_spans is empty.
INSERT INTO run_spans (run_id, first_event_id)
SELECT run_id, min(event_id) FROM (
    SELECT run_id, event_id FROM step_events
    UNION ALL SELECT run_id, event_id FROM materializations
    UNION ALL SELECT run_id, event_id FROM materialization_planned
    UNION ALL SELECT run_id, event_id FROM run_events
    UNION ALL SELECT run_id, event_id FROM handled_outputs
    UNION ALL SELECT run_id, event_id FROM asset_reads
    UNION ALL SELECT run_id, event_id FROM observations
) WHERE run_id IS NOT NULL
GROUP BY run_id;
DELETE FROM output_producers;
INSERT INTO output_producers (step_key, output_name, event_id, asset_key)
SELECT step_key, output_name, max(event_id), arg_max(asset_key, event_id)
FROM handled_outputs
WHERE asset_key IS NOT NULL AND step_key IS NOT NULL AND output_name IS NOT NULL
GROUP BY step_key, output_name;
