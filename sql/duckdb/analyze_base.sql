-- analyze_base: the SQL half of asset_stats, one row per key of
-- analyze_keys: per asset (partition NULL; it sums its partitions) and per
-- partition of a partitioned asset. Every fact with a partition counts
-- twice: on the asset's row and on the partition's. One pass over the facts
-- with two grouping sets, (asset) and (asset, partition); the (asset,
-- partition) groups of partitions the asset does not have (step executions
-- and reads of a partition never materialized or observed) are dropped by
-- the join with analyze_keys, so they count on the asset's row only.
CREATE OR REPLACE TEMP TABLE analyze_base AS
WITH p AS (SELECT * FROM analyze_params),
ak AS (SELECT key_id, asset_key, partition FROM analyze_keys WHERE partition IS NULL),
pk AS (SELECT key_id, asset_key, partition FROM analyze_keys WHERE partition IS NOT NULL),
-- The partition a step execution worked on: what the step planned or
-- materialized in that run (Dagster runs one partition per run).
step_part AS (
    SELECT run_id, step_key, min(partition) AS partition
    FROM (
        SELECT run_id, step_key, partition FROM materializations WHERE partition IS NOT NULL
        UNION ALL
        SELECT run_id, step_key, partition FROM materialization_planned WHERE partition IS NOT NULL
    )
    GROUP BY ALL
),
-- The partition a run targeted: a read in that run is attributed to that
-- partition of the asset it read, when the asset has it.
run_part AS (
    SELECT run_id, min(partition) AS partition
    FROM (
        SELECT run_id, partition FROM materializations WHERE partition IS NOT NULL
        UNION ALL
        SELECT run_id, partition FROM materialization_planned WHERE partition IS NOT NULL
    )
    GROUP BY ALL
),
-- One row per step execution and asset. A shared (multi-asset) step's
-- seconds are split evenly among its assets: summed over assets they add up
-- to the step's time once. Only multi-asset steps are unnested (DuckDB's
-- UNNEST is slow).
se AS (
    SELECT s.status, s.shared_step, sp.partition, s.asset_keys, len(s.asset_keys) AS n_assets,
           s.duration_ms / 1000.0 / greatest(len(s.asset_keys), 1) AS seconds,
           coalesce(s.finished_at, s.started_at) AS ts
    FROM step_executions s LEFT JOIN step_part sp USING (run_id, step_key), p
    WHERE coalesce(s.finished_at, s.started_at) <= p.as_of
),
steps AS (
    SELECT status, shared_step, partition, seconds, ts, asset_keys[1] AS asset_key
    FROM se WHERE n_assets = 1
    UNION ALL
    SELECT status, shared_step, partition, seconds, ts, unnest(asset_keys) AS asset_key
    FROM se WHERE n_assets > 1
),
reads AS (
    SELECT r.asset_key, rp.partition, r.ts, r.job_name
    FROM asset_reads r LEFT JOIN run_part rp USING (run_id), p
    WHERE r.asset_key IS NOT NULL AND r.ts <= p.as_of
),
facts AS (
    SELECT asset_key, partition, ts, 'm' AS kind, size_bytes,
           NULL::VARCHAR AS status, NULL::DOUBLE AS seconds, NULL::BOOLEAN AS shared, NULL::VARCHAR AS job_name
    FROM materializations, p WHERE ts <= p.as_of
    UNION ALL
    SELECT asset_key, partition, ts, 'o', size_bytes, NULL, NULL, NULL, NULL
    FROM observations, p WHERE ts <= p.as_of
    UNION ALL
    SELECT asset_key, partition, ts, 's', NULL, status, seconds, shared_step, NULL
    FROM steps
    UNION ALL
    SELECT asset_key, partition, ts, 'r', NULL, NULL, NULL, NULL, job_name
    FROM reads
),
agg AS (
    SELECT asset_key, partition, grouping(partition) AS g,
       count(*) FILTER (WHERE kind = 'm') AS materializations,
       count(*) FILTER (WHERE kind = 'o') AS observations,
       count(*) FILTER (WHERE kind = 's' AND status = 'success') AS successes,
       count(*) FILTER (WHERE kind = 's' AND status = 'failure') AS failures,
       count(*) FILTER (WHERE kind = 's' AND status = 'retried') AS retried_attempts,
       count(size_bytes) > 0 AS size_known,
       avg(size_bytes) FILTER (WHERE kind = 'm') AS write_bytes_mean,
       max(size_bytes) FILTER (WHERE kind = 'm') AS write_bytes_max,
       sum(size_bytes) FILTER (WHERE kind = 'm' AND ts > p.window_start) AS write_bytes_in_window,
       count(*) FILTER (WHERE kind = 'm' AND ts > p.window_start) AS writes_in_window,
       count(*) FILTER (WHERE kind = 'r') AS reads_total,
       count(*) FILTER (WHERE kind = 'r' AND ts > p.window_start) AS reads_in_window,
       count(DISTINCT job_name) FILTER (WHERE kind = 'r') AS read_by_pipelines,
       -- Summed as DECIMAL: a parallel sum of doubles depends on the order
       -- the threads add them in, and a re-run must give identical tables.
       coalesce(CAST(sum(CAST(seconds AS DECIMAL(38, 9))) FILTER (WHERE kind = 's') AS DOUBLE), 0) AS compute_seconds,
       coalesce(CAST(sum(CAST(seconds AS DECIMAL(38, 9))) FILTER (WHERE kind = 's' AND ts > p.window_start) AS DOUBLE), 0) AS compute_seconds_in_window,
       min(ts) AS first_seen,
       max(ts) FILTER (WHERE kind = 'm') AS last_materialized,
       max(ts) FILTER (WHERE kind = 'r') AS last_read,
       coalesce(bool_or(shared) FILTER (WHERE kind = 's'), false) AS shared_step
    FROM facts, p
    GROUP BY GROUPING SETS ((asset_key), (asset_key, partition))
)
SELECT k.key_id, k.asset_key, k.partition, agg.* EXCLUDE (asset_key, partition, g)
FROM agg JOIN ak k ON k.asset_key = agg.asset_key WHERE agg.g = 1
UNION ALL
SELECT k.key_id, k.asset_key, k.partition, agg.* EXCLUDE (asset_key, partition, g)
FROM agg JOIN pk k ON k.asset_key = agg.asset_key AND k.partition = agg.partition WHERE agg.g = 0
ORDER BY key_id;
