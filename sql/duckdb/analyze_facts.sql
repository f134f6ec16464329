-- The facts at or before as_of, reduced once to what the later steps need:
-- step executions and reads pre-aggregated at (asset, partition) grain, the
-- keys (assets and partitions) numbered, and the materializations and
-- observations as narrow rows with integer surrogate keys. Each fact table
-- is scanned and joined on strings once here; everything after this works
-- on ~100k groups or on integer keys. Every aggregate is order-independent
-- (counts, min/max, integer and DECIMAL sums), so parallel plans give the
-- same bits as a single thread.

-- analyze_steps: step executions per (asset, partition); partition NULL
-- when the run targeted none (step_executions.partition: what the step
-- planned or materialized in that run, derived at load time). A shared
-- (multi-asset) step's seconds are split evenly among its assets: summed
-- over assets they add up to the step's time once. Multi-asset steps are spread over their assets by a
-- join with the list positions 1..n (UNNEST only makes those, a few rows):
-- DuckDB 1.1's UNNEST of the steps' lists made the whole statement 2-3x
-- slower (0.21 s against 0.08 s on the 2M bench fixture).
-- Seconds are summed as DECIMAL so the sum does not depend on the order
-- rows arrive in, and partial sums add up to the same total.
CREATE OR REPLACE TEMP TABLE analyze_steps AS
WITH se AS (
    SELECT s.status, s.shared_step, s.partition, s.asset_keys, len(s.asset_keys) AS n_assets,
           CAST(s.duration_ms / 1000.0 / greatest(len(s.asset_keys), 1) AS DECIMAL(38, 9)) AS seconds,
           coalesce(s.finished_at, s.started_at) AS ts
    FROM step_executions s
    WHERE coalesce(s.finished_at, s.started_at) <= getvariable('matlens_as_of')
),
-- pos: positions 1..n for each list length n that occurs, so the join is
-- on equality (an inequality join is a nested loop, paying for the longest
-- list on every row).
pos AS (
    SELECT n AS n_assets, unnest(range(1, n + 1)) AS i
    FROM (SELECT DISTINCT len(asset_keys) AS n FROM step_executions WHERE len(asset_keys) > 1)
),
steps AS (
    SELECT status, shared_step, partition, seconds, ts, asset_keys[1] AS asset_key
    FROM se WHERE n_assets = 1
    UNION ALL
    SELECT status, shared_step, partition, seconds, ts, asset_keys[i] AS asset_key
    FROM se JOIN pos USING (n_assets)
)
SELECT asset_key, partition,
       count(*) FILTER (WHERE status = 'success') AS successes,
       count(*) FILTER (WHERE status = 'failure') AS failures,
       count(*) FILTER (WHERE status = 'retried') AS retried_attempts,
       sum(seconds) AS compute_seconds,
       sum(seconds) FILTER (WHERE ts > getvariable('matlens_window_start')) AS compute_seconds_in_window,
       min(ts) AS first_seen,
       bool_or(shared_step) AS shared_step
FROM steps
GROUP BY asset_key, partition;

-- analyze_reads: resolved reads per (asset, partition, job). A read
-- belongs to the partition its run targeted (the smallest any of the run's
-- materializations or planned materializations names; Dagster runs one
-- partition per run); job_name stays in the grain so distinct readers can
-- be counted per partition and per asset.
CREATE OR REPLACE TEMP TABLE analyze_reads AS
WITH run_part AS (
    SELECT run_id, min(partition) AS partition
    FROM (
        SELECT run_id, partition FROM materializations WHERE partition IS NOT NULL
        UNION ALL
        SELECT run_id, partition FROM materialization_planned WHERE partition IS NOT NULL
    )
    GROUP BY run_id
)
SELECT r.asset_key, rp.partition, r.job_name,
       count(*) AS reads_total,
       count(*) FILTER (WHERE r.ts > getvariable('matlens_window_start')) AS reads_in_window,
       min(r.ts) AS first_seen,
       max(r.ts) AS last_read
FROM asset_reads r LEFT JOIN run_part rp USING (run_id)
WHERE r.asset_key IS NOT NULL AND r.ts <= getvariable('matlens_as_of')
GROUP BY ALL;

-- analyze_keys: one row per asset (partition NULL) having any fact
-- (materialization, observation, step execution, resolved read) at or
-- before as_of, and one per partition materialized or observed. key_id
-- numbers them in (asset_key, partition NULLS FIRST) order, so ordering by
-- key_id is ordering by asset and partition.
CREATE OR REPLACE TEMP TABLE analyze_keys AS
WITH mo AS (
    SELECT DISTINCT asset_key, partition FROM (
        SELECT asset_key, partition FROM materializations WHERE ts <= getvariable('matlens_as_of')
        UNION ALL
        SELECT asset_key, partition FROM observations WHERE ts <= getvariable('matlens_as_of')
    )
),
keys AS (
    SELECT DISTINCT asset_key, NULL::VARCHAR AS partition FROM (
        SELECT asset_key FROM mo
        UNION ALL
        SELECT asset_key FROM analyze_steps
        UNION ALL
        SELECT asset_key FROM analyze_reads
    )
    UNION ALL
    SELECT asset_key, partition FROM mo WHERE partition IS NOT NULL
)
SELECT row_number() OVER (ORDER BY asset_key, partition NULLS FIRST) AS key_id, asset_key, partition
FROM keys;

-- analyze_events: one narrow row per materialization (observed false) and
-- observation at or before as_of: asset_id is the asset's key_id, part_id
-- its partition's (NULL when unpartitioned). exec_s is a materialization's
-- execution time: its execution_time_s metadata when present, else the
-- duration of the successful attempt of its step in that run, which the
-- loader keeps in materialization_exec (joining every materialization with
-- the step executions on (run_id, step_key) strings here was half of this
-- statement).
CREATE OR REPLACE TEMP TABLE analyze_events AS
WITH ak AS (SELECT key_id, asset_key FROM analyze_keys WHERE partition IS NULL),
pk AS (SELECT key_id, asset_key, partition FROM analyze_keys WHERE partition IS NOT NULL)
SELECT ak.key_id AS asset_id, pk.key_id AS part_id, false AS observed, m.ts, m.event_id, m.size_bytes,
       coalesce(m.execution_time_s, f.exec_s) AS exec_s
FROM materializations m
JOIN ak ON ak.asset_key = m.asset_key
LEFT JOIN pk ON pk.asset_key = m.asset_key AND pk.partition = m.partition
LEFT JOIN materialization_exec f ON f.event_id = m.event_id
WHERE m.ts <= getvariable('matlens_as_of')
UNION ALL
SELECT ak.key_id, pk.key_id, true, o.ts, o.event_id, o.size_bytes, NULL
FROM observations o
JOIN ak ON ak.asset_key = o.asset_key
LEFT JOIN pk ON pk.asset_key = o.asset_key AND pk.partition = o.partition
WHERE o.ts <= getvariable('matlens_as_of');
