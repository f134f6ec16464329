-- analyze_base: the SQL half of asset_stats, one row per key of
-- analyze_keys: per asset (partition NULL; it sums its partitions) and per
-- partition of a partitioned asset. Materializations and observations are
-- aggregated from analyze_events on integer keys, by asset and by
-- partition; step executions and reads come pre-aggregated per (asset,
-- partition) from analyze_facts: an asset's row sums all of its groups,
-- a partition's row takes its own group. Groups of partitions the asset
-- does not have (step executions and reads of a partition never
-- materialized or observed) match no partition key, so they count on the
-- asset's row only.
CREATE OR REPLACE TEMP TABLE analyze_base AS
WITH mo_rows AS (
    SELECT asset_id AS key_id, observed, ts, size_bytes FROM analyze_events
    UNION ALL
    SELECT part_id, observed, ts, size_bytes FROM analyze_events WHERE part_id IS NOT NULL
),
mo AS (
    SELECT key_id,
           count(*) FILTER (WHERE NOT observed) AS materializations,
           count(*) FILTER (WHERE observed) AS observations,
           count(size_bytes) > 0 AS size_known,
           avg(size_bytes) FILTER (WHERE NOT observed) AS write_bytes_mean,
           max(size_bytes) FILTER (WHERE NOT observed) AS write_bytes_max,
           sum(size_bytes) FILTER (WHERE NOT observed AND ts > getvariable('matlens_window_start')) AS write_bytes_in_window,
           count(*) FILTER (WHERE NOT observed AND ts > getvariable('matlens_window_start')) AS writes_in_window,
           min(ts) AS first_seen,
           max(ts) FILTER (WHERE NOT observed) AS last_materialized
    FROM mo_rows
    GROUP BY key_id
),
ak AS (SELECT key_id, asset_key FROM analyze_keys WHERE partition IS NULL),
pk AS (SELECT key_id, asset_key, partition FROM analyze_keys WHERE partition IS NOT NULL),
steps AS (
    SELECT ak.key_id,
           sum(successes) AS successes, sum(failures) AS failures, sum(retried_attempts) AS retried_attempts,
           sum(compute_seconds) AS compute_seconds, sum(compute_seconds_in_window) AS compute_seconds_in_window,
           min(first_seen) AS first_seen, bool_or(shared_step) AS shared_step
    FROM analyze_steps s JOIN ak USING (asset_key)
    GROUP BY ak.key_id
    UNION ALL
    SELECT pk.key_id, successes, failures, retried_attempts,
           compute_seconds, compute_seconds_in_window, first_seen, shared_step
    FROM analyze_steps s JOIN pk USING (asset_key, partition)
),
reads AS (
    SELECT ak.key_id,
           sum(reads_total) AS reads_total, sum(reads_in_window) AS reads_in_window,
           count(DISTINCT job_name) AS read_by_pipelines,
           min(first_seen) AS first_seen, max(last_read) AS last_read
    FROM analyze_reads r JOIN ak USING (asset_key)
    GROUP BY ak.key_id
    UNION ALL
    SELECT pk.key_id,
           sum(reads_total), sum(reads_in_window), count(DISTINCT job_name), min(first_seen), max(last_read)
    FROM analyze_reads r JOIN pk USING (asset_key, partition)
    GROUP BY pk.key_id
)
SELECT k.key_id, k.asset_key, k.partition,
       coalesce(mo.materializations, 0) AS materializations,
       coalesce(mo.observations, 0) AS observations,
       CAST(coalesce(s.successes, 0) AS BIGINT) AS successes,
       CAST(coalesce(s.failures, 0) AS BIGINT) AS failures,
       CAST(coalesce(s.retried_attempts, 0) AS BIGINT) AS retried_attempts,
       coalesce(mo.size_known, false) AS size_known,
       mo.write_bytes_mean, mo.write_bytes_max, mo.write_bytes_in_window,
       coalesce(mo.writes_in_window, 0) AS writes_in_window,
       CAST(coalesce(r.reads_total, 0) AS BIGINT) AS reads_total,
       CAST(coalesce(r.reads_in_window, 0) AS BIGINT) AS reads_in_window,
       coalesce(r.read_by_pipelines, 0) AS read_by_pipelines,
       coalesce(CAST(s.compute_seconds AS DOUBLE), 0) AS compute_seconds,
       coalesce(CAST(s.compute_seconds_in_window AS DOUBLE), 0) AS compute_seconds_in_window,
       least(mo.first_seen, s.first_seen, r.first_seen) AS first_seen,
       mo.last_materialized,
       r.last_read,
       coalesce(s.shared_step, false) AS shared_step
FROM analyze_keys k
LEFT JOIN mo USING (key_id)
LEFT JOIN steps s USING (key_id)
LEFT JOIN reads r USING (key_id)
ORDER BY k.key_id;
