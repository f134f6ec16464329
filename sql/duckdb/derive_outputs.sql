-- Each handled output (of the touched runs) stored the asset its
-- step materialized just before it: Dagster writes ASSET_MATERIALIZATION and
-- then HANDLED_OUTPUT for every output of a step, so in a multi-asset step
-- the materialization between the previous output and this one is its asset.
-- $1: lowest event id not yet derived (ingest_state.derive_from). A late-committed materialization with a
-- lower id only changes outputs after it, which all have ids >= $1.
-- $2: lowest event id of the touched runs (run_spans.sql): all their events
-- lie at or above it, so only that id range is scanned.
UPDATE handled_outputs AS h
SET asset_key = x.asset_key
FROM (
    SELECT o.event_id, arg_max(m.asset_key, m.event_id) AS asset_key
    FROM (
        SELECT event_id, run_id, step_key,
               coalesce(lag(event_id) OVER (PARTITION BY run_id, step_key ORDER BY event_id), 0) AS prev_output_id
        FROM handled_outputs
        WHERE event_id >= $2 AND run_id IN (SELECT run_id FROM touched_runs)
    ) AS o
    LEFT JOIN (
        SELECT run_id, step_key, event_id, asset_key FROM materializations
        WHERE event_id >= $2 AND run_id IN (SELECT run_id FROM touched_runs)
    ) AS m
      ON m.run_id = o.run_id AND m.step_key = o.step_key
     AND m.event_id < o.event_id AND m.event_id > o.prev_output_id
    WHERE o.event_id >= $1
    GROUP BY o.event_id
) AS x
WHERE h.event_id = x.event_id AND h.event_id >= $1
  AND h.asset_key IS DISTINCT FROM x.asset_key;
