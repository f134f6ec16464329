-- analyze_facts: every fact analyze_base aggregates, one row per event
-- (materialization 'm', observation 'o', step execution and asset 's',
-- resolved read 'r') at or before as_of, with the asset and partition it
-- belongs to. A temp table rather than a CTE: DuckDB 1.1 evaluated the CTE
-- once per reference, which made the aggregation four times slower.
CREATE OR REPLACE TEMP TABLE analyze_facts AS
WITH p AS (SELECT * FROM analyze_params),
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
-- The partition a run targeted (Dagster runs one partition per run): a
-- read in that run is attributed to that partition of the asset it read,
-- when the asset has it.
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
-- to the step's time once. Joined on the step before unnesting (joining the
-- unnested rows on three strings was ten times slower), and only
-- multi-asset steps are unnested (DuckDB's UNNEST dominated this query).
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
facts AS (
    SELECT asset_key, partition, ts, 'm' AS kind, size_bytes, NULL::VARCHAR AS status,
           NULL::DOUBLE AS seconds, NULL::BOOLEAN AS shared, job_name
    FROM materializations, p WHERE ts <= p.as_of
    UNION ALL
    SELECT asset_key, partition, ts, 'o', size_bytes, NULL, NULL, NULL, job_name
    FROM observations, p WHERE ts <= p.as_of
    UNION ALL
    SELECT asset_key, partition, ts, 's', NULL, status, seconds, shared_step, NULL
    FROM steps
    UNION ALL
    SELECT r.asset_key, rp.partition, r.ts, 'r', NULL, NULL, NULL, NULL, r.job_name
    FROM asset_reads r LEFT JOIN run_part rp USING (run_id), p
    WHERE r.asset_key IS NOT NULL AND r.ts <= p.as_of
)
SELECT * FROM facts;
