-- Second half of producers_update.sql (statements without parameters).
UPDATE output_producers AS p SET event_id = b.event_id, asset_key = b.asset_key
FROM batch_producers AS b
WHERE p.step_key = b.step_key AND p.output_name = b.output_name AND b.event_id > p.event_id;
INSERT INTO output_producers (step_key, output_name, event_id, asset_key)
SELECT step_key, output_name, event_id, asset_key
FROM batch_producers ANTI JOIN output_producers USING (step_key, output_name);
