-- analyze_keys and analyze_events: the keys (assets and partitions) and the
-- materializations and observations at or before as_of, with integer
-- surrogate keys so later steps neither join nor sort on strings.
--
-- analyze_keys: one row per asset (partition NULL) having any fact
-- (materialization, observation, step execution, resolved read) at or
-- before as_of, and one per partition materialized or observed. key_id
-- numbers them in (asset_key, partition NULLS FIRST) order, so ordering by
-- key_id is ordering by asset and partition.
CREATE OR REPLACE TEMP TABLE analyze_keys AS
WITH p AS (SELECT * FROM analyze_params),
mo AS (
    SELECT asset_key, partition FROM materializations, p WHERE ts <= p.as_of
    UNION ALL
    SELECT asset_key, partition FROM observations, p WHERE ts <= p.as_of
),
se AS (
    SELECT asset_keys FROM step_executions, p WHERE coalesce(finished_at, started_at) <= p.as_of
),
assets AS (
    SELECT DISTINCT asset_key FROM (
        SELECT asset_key FROM mo
        UNION ALL
        SELECT asset_keys[1] FROM se WHERE len(asset_keys) = 1
        UNION ALL
        SELECT unnest(asset_keys) FROM se WHERE len(asset_keys) > 1
        UNION ALL
        SELECT asset_key FROM asset_reads, p WHERE asset_key IS NOT NULL AND ts <= p.as_of
    )
),
keys AS (
    SELECT asset_key, NULL::VARCHAR AS partition FROM assets
    UNION ALL
    SELECT DISTINCT asset_key, partition FROM mo WHERE partition IS NOT NULL
)
SELECT row_number() OVER (ORDER BY asset_key, partition NULLS FIRST) AS key_id, asset_key, partition
FROM keys;

-- analyze_events: one narrow row per materialization (observed false) and
-- observation at or before as_of: asset_id is the asset's key_id, part_id
-- its partition's (NULL when unpartitioned). exec_s is a materialization's
-- execution time: its execution_time_s metadata when present, else the
-- duration of the successful attempt of its step in that run, computed
-- once here. The series queries and analyze_base read it instead of
-- re-scanning and re-joining the fact tables.
CREATE OR REPLACE TEMP TABLE analyze_events AS
WITH p AS (SELECT * FROM analyze_params),
ak AS (SELECT key_id, asset_key FROM analyze_keys WHERE partition IS NULL),
pk AS (SELECT key_id, asset_key, partition FROM analyze_keys WHERE partition IS NOT NULL),
ok AS (
    SELECT run_id, step_key, max(duration_ms) AS duration_ms
    FROM step_executions WHERE status = 'success'
    GROUP BY ALL
)
SELECT ak.key_id AS asset_id, pk.key_id AS part_id, false AS observed, m.ts, m.event_id, m.size_bytes,
       coalesce(m.execution_time_s, ok.duration_ms / 1000.0) AS exec_s
FROM materializations m
JOIN ak ON ak.asset_key = m.asset_key
LEFT JOIN pk ON pk.asset_key = m.asset_key AND pk.partition = m.partition
LEFT JOIN ok ON ok.run_id = m.run_id AND ok.step_key = m.step_key, p
WHERE m.ts <= p.as_of
UNION ALL
SELECT ak.key_id, pk.key_id, true, o.ts, o.event_id, o.size_bytes, NULL
FROM observations o
JOIN ak ON ak.asset_key = o.asset_key
LEFT JOIN pk ON pk.asset_key = o.asset_key AND pk.partition = o.partition, p
WHERE o.ts <= p.as_of;
