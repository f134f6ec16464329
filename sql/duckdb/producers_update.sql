-- Fold the newly derived handled outputs into output_producers (the
-- latest producer of each step output). $1: lowest event id not yet derived;
-- every recorded producer is below it (the loader checks), so the new
-- latest producer of an output replaces the recorded one.
CREATE OR REPLACE TEMP TABLE batch_producers AS
SELECT step_key, output_name, max(event_id) AS event_id, arg_max(asset_key, event_id) AS asset_key
FROM handled_outputs
WHERE event_id >= $1 AND asset_key IS NOT NULL AND step_key IS NOT NULL AND output_name IS NOT NULL
GROUP BY step_key, output_name;
