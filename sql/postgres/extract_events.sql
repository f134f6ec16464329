-- Rows of Dagster's event log that matlens loads, after a watermark.
-- $1: id watermark (exclusive), $2: the dagster_event_type values matlens uses.
-- Columns are selected by name: their order differs between fresh and
-- migrated Dagster databases.
SELECT id, run_id, event, dagster_event_type, "timestamp", step_key, asset_key, partition
FROM event_logs
WHERE id > $1
  AND dagster_event_type = ANY($2)
ORDER BY id
