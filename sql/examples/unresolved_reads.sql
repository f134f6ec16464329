-- Inputs matlens could not tie to an asset (e.g. source assets, where
-- Dagster records no upstream step): what to check in the asset graph.
SELECT step_key, input_name, upstream_step_key, upstream_output_name,
       count(*) AS reads, max(ts) AS last_seen
FROM asset_reads
WHERE resolution = 'unresolved'
GROUP BY ALL
ORDER BY reads DESC;
