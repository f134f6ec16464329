-- Resolve LOADED_INPUT rows to the asset they read. The upstream step and
-- output name it in; the asset is what that output stored: in the same run
-- first, else the latest earlier producer of that step and output in any
-- run; otherwise the read stays unresolved (and is counted).
-- $1: lowest event id not yet derived (ingest_state.derive_from). A newly loaded producer only changes
-- reads after it, which all have ids >= $1, so older reads keep their answer.
-- $2: lowest event id of the touched runs (run_spans.sql).
UPDATE asset_reads AS r
SET asset_key = x.asset_key, resolution = x.resolution
FROM (
    SELECT r2.event_id,
           coalesce(s.asset_key, c.asset_key) AS asset_key,
           CASE WHEN s.asset_key IS NOT NULL THEN 'same_run'
                WHEN c.asset_key IS NOT NULL THEN 'cross_run'
                ELSE 'unresolved' END AS resolution
    FROM (SELECT * FROM asset_reads WHERE event_id >= $1) AS r2
    LEFT JOIN (
        SELECT run_id, step_key, output_name, arg_max(asset_key, event_id) AS asset_key
        FROM handled_outputs
        WHERE asset_key IS NOT NULL
          AND event_id >= $2 AND run_id IN (SELECT run_id FROM touched_runs)
        GROUP BY run_id, step_key, output_name
    ) AS s
      ON s.run_id = r2.run_id AND s.step_key = r2.upstream_step_key AND s.output_name = r2.upstream_output_name
    ASOF LEFT JOIN (
        -- The latest producer before a read (all reads here have ids >= $1)
        -- is either the latest one below $1 (output_producers: the loader
        -- keeps it so, see producers_update.sql) or one at or above it.
        SELECT step_key, output_name, event_id, asset_key FROM output_producers
        UNION ALL
        SELECT step_key, output_name, event_id, asset_key
        FROM handled_outputs
        WHERE asset_key IS NOT NULL AND event_id >= $1
    ) AS c
      ON c.step_key = r2.upstream_step_key AND c.output_name = r2.upstream_output_name
     AND r2.event_id > c.event_id
) AS x
WHERE r.event_id = x.event_id AND r.event_id >= $1
  AND (r.asset_key IS DISTINCT FROM x.asset_key OR r.resolution IS DISTINCT FROM x.resolution);
