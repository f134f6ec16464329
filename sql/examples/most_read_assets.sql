-- Which assets do pipelines read, how often, and from how many runs?
-- Reads resolved across runs show assets consumed by later jobs.
SELECT asset_key,
       count(*)                                            AS reads,
       count(*) FILTER (WHERE resolution = 'cross_run')    AS reads_from_other_runs,
       count(DISTINCT run_id)                              AS reading_runs,
       count(DISTINCT step_key)                            AS reading_steps,
       max(ts)                                             AS last_read
FROM asset_reads
WHERE asset_key IS NOT NULL
GROUP BY asset_key
ORDER BY reads DESC;
