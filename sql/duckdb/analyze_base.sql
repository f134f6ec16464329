-- analyze_base: the SQL half of asset_stats, one row per asset (partition
-- NULL; it sums its partitions) and one per partition of a partitioned
-- asset, numbered by key_id in (asset_key, partition) order. Every fact
-- with a partition counts twice: on the asset's row and on the partition's.
CREATE OR REPLACE TEMP TABLE analyze_base AS
WITH p AS (SELECT * FROM analyze_params),
-- Partitions of an asset are those materialized or observed; step
-- executions and reads of a partition the asset does not have (yet) count
-- on the asset's row only.
parts AS (
    SELECT DISTINCT asset_key, partition FROM analyze_facts
    WHERE partition IS NOT NULL AND kind IN ('m', 'o')
),
both_levels AS (
    SELECT b.*, b.ts > p.window_start AS in_window
    FROM (
        SELECT * REPLACE (NULL::VARCHAR AS partition) FROM analyze_facts
        UNION ALL
        SELECT f.* FROM analyze_facts f SEMI JOIN parts USING (asset_key, partition)
    ) b, p
)
SELECT row_number() OVER (ORDER BY asset_key, partition NULLS FIRST) AS key_id,
       asset_key, partition,
       count(*) FILTER (WHERE kind = 'm') AS materializations,
       count(*) FILTER (WHERE kind = 'o') AS observations,
       count(*) FILTER (WHERE kind = 's' AND status = 'success') AS successes,
       count(*) FILTER (WHERE kind = 's' AND status = 'failure') AS failures,
       count(*) FILTER (WHERE kind = 's' AND status = 'retried') AS retried_attempts,
       count(size_bytes) > 0 AS size_known,
       avg(size_bytes) FILTER (WHERE kind = 'm') AS write_bytes_mean,
       max(size_bytes) FILTER (WHERE kind = 'm') AS write_bytes_max,
       sum(size_bytes) FILTER (WHERE kind = 'm' AND in_window) AS write_bytes_in_window,
       count(*) FILTER (WHERE kind = 'm' AND in_window) AS writes_in_window,
       count(*) FILTER (WHERE kind = 'r') AS reads_total,
       count(*) FILTER (WHERE kind = 'r' AND in_window) AS reads_in_window,
       count(DISTINCT job_name) FILTER (WHERE kind = 'r') AS read_by_pipelines,
       coalesce(sum(seconds) FILTER (WHERE kind = 's'), 0) AS compute_seconds,
       coalesce(sum(seconds) FILTER (WHERE kind = 's' AND in_window), 0) AS compute_seconds_in_window,
       min(ts) AS first_seen,
       max(ts) FILTER (WHERE kind = 'm') AS last_materialized,
       max(ts) FILTER (WHERE kind = 'r') AS last_read,
       coalesce(bool_or(shared) FILTER (WHERE kind = 's'), false) AS shared_step
FROM both_levels
GROUP BY asset_key, partition;
