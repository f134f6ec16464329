-- output_producers from the handled outputs below $1 (the lowest id not yet
-- derived): the latest resolved producer of each step output. Used when the
-- rows to derive reach below producers already recorded (late-committed rows in the
-- re-read window), where the running maximum kept by producers_update.sql
-- may hold a producer above $1 and have dropped the one below it.
DELETE FROM output_producers;
INSERT INTO output_producers (step_key, output_name, event_id, asset_key)
SELECT step_key, output_name, max(event_id), arg_max(asset_key, event_id)
FROM handled_outputs
WHERE event_id < $1 AND asset_key IS NOT NULL AND step_key IS NOT NULL AND output_name IS NOT NULL
GROUP BY step_key, output_name;
