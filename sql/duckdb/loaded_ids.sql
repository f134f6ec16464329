-- Event ids already loaded (or quarantined) at or above $1: the trailing
-- re-read window skips them before decoding.
SELECT event_id FROM materializations WHERE event_id >= $1
UNION ALL SELECT event_id FROM observations WHERE event_id >= $1
UNION ALL SELECT event_id FROM materialization_planned WHERE event_id >= $1
UNION ALL SELECT event_id FROM handled_outputs WHERE event_id >= $1
UNION ALL SELECT event_id FROM asset_reads WHERE event_id >= $1
UNION ALL SELECT event_id FROM step_events WHERE event_id >= $1
UNION ALL SELECT event_id FROM run_events WHERE event_id >= $1
UNION ALL SELECT event_id FROM rejected_events WHERE event_id >= $1 AND source = $2
