-- Execution-time series for gonum: (key_id, v) ordered by key_id and time,
-- so each asset's and each partition's series is one contiguous run of rows.
-- A materialization's execution time (exec_s) is computed in
-- analyze_events. Asset rows get every materialization of the asset (all
-- partitions), partition rows their own. Only narrow integer/double rows
-- are sorted.
SELECT key_id, v FROM (
    SELECT asset_id AS key_id, ts, event_id, exec_s AS v FROM analyze_events WHERE exec_s IS NOT NULL
    UNION ALL
    SELECT part_id, ts, event_id, exec_s FROM analyze_events WHERE exec_s IS NOT NULL AND part_id IS NOT NULL
)
ORDER BY key_id, ts, event_id;
