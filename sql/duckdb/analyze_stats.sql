-- analyze_stats: the asset_stats rows of this run, joining the SQL half
-- (analyze_base) with what gonum computed (analyze_gonum, keyed by key_id).
-- Rates per day divide by the window actually covered: the configured
-- window, or the asset's life when it is younger (at least one day).
CREATE OR REPLACE TEMP TABLE analyze_stats AS
WITH b AS (
    SELECT b.*,
           date_diff('microsecond', b.first_seen, getvariable('matlens_as_of')) / 86400e6 AS history_days,
           greatest(date_diff('microsecond', b.first_seen, getvariable('matlens_as_of')) / 86400e6, 1.0) AS life_days,
           least(getvariable('matlens_window_days'), greatest(date_diff('microsecond', b.first_seen, getvariable('matlens_as_of')) / 86400e6, 1.0)) AS win_days
    FROM analyze_base b
)
SELECT getvariable('matlens_as_of') AS as_of, b.asset_key, b.partition,
       b.materializations, b.observations, b.successes, b.failures, b.retried_attempts,
       CASE WHEN b.successes + b.failures > 0 THEN b.successes / (b.successes + b.failures) END AS success_rate,
       coalesce(g.exec_n, 0) AS exec_time_samples,
       g.exec_mean AS exec_time_s_mean, g.exec_stddev AS exec_time_s_stddev,
       g.exec_p50 AS exec_time_s_p50, g.exec_p95 AS exec_time_s_p95, g.exec_p99 AS exec_time_s_p99,
       g.exec_max AS exec_time_s_max, g.exec_latest AS exec_time_s_latest,
       g.exec_baseline_median AS exec_time_s_baseline_median,
       b.size_known OR st.asset_key IS NOT NULL AS size_known, coalesce(g.size_n, 0) AS size_samples,
       -- Measured bytes win over the size a materialization recorded.
       CASE WHEN st.asset_key IS NOT NULL THEN st.bytes ELSE CAST(round(g.size_latest) AS BIGINT) END AS size_bytes_latest,
       CASE WHEN st.asset_key IS NOT NULL THEN 'object store' WHEN g.size_latest IS NOT NULL THEN 'metadata' END AS size_source,
       g.size_mean AS size_bytes_mean,
       CAST(round(g.size_max) AS BIGINT) AS size_bytes_max,
       -- Growth measured in the object store wins too; measured bytes
       -- forecast from it, or from the recorded sizes' growth until the
       -- store has measured them twice. Nothing found at the location
       -- (objects deleted) has no growth to forecast with.
       CASE WHEN st.matched_by = 'none' THEN NULL
            ELSE coalesce(sg.growth_bytes_per_day, g.size_growth) END AS size_growth_bytes_per_day,
       CASE WHEN st.asset_key IS NULL THEN g.size_forecast_30d
            WHEN st.matched_by <> 'none' THEN greatest(0, st.bytes + 30 * coalesce(sg.growth_bytes_per_day, g.size_growth)) END AS size_bytes_forecast_30d,
       CASE WHEN st.asset_key IS NULL THEN g.size_forecast_90d
            WHEN st.matched_by <> 'none' THEN greatest(0, st.bytes + 90 * coalesce(sg.growth_bytes_per_day, g.size_growth)) END AS size_bytes_forecast_90d,
       CASE WHEN st.asset_key IS NULL THEN g.size_forecast_365d
            WHEN st.matched_by <> 'none' THEN greatest(0, st.bytes + 365 * coalesce(sg.growth_bytes_per_day, g.size_growth)) END AS size_bytes_forecast_365d,
       b.write_bytes_mean, b.write_bytes_max,
       b.win_days AS window_days,
       b.writes_in_window, b.reads_in_window,
       b.writes_in_window / b.win_days AS writes_per_day,
       b.reads_in_window / b.win_days AS reads_per_day,
       b.materializations / b.life_days AS writes_per_day_life,
       b.reads_total / b.life_days AS reads_per_day_life,
       b.writes_in_window / b.win_days * 30 AS rewrites_per_month,
       b.reads_in_window / b.win_days * 30 AS reads_per_month,
       b.write_bytes_in_window / b.win_days AS write_bytes_per_day,
       b.reads_in_window / b.win_days * b.write_bytes_mean AS read_bytes_per_day,
       b.reads_total, b.read_by_pipelines,
       b.compute_seconds,
       b.compute_seconds_in_window / b.win_days AS compute_seconds_per_day,
       b.first_seen, b.last_materialized, b.last_read, b.history_days, b.shared_step
FROM b LEFT JOIN analyze_gonum g USING (key_id)
LEFT JOIN analyze_asset_storage st ON st.asset_key = b.asset_key AND st.partition IS NOT DISTINCT FROM b.partition
LEFT JOIN analyze_storage_growth sg ON sg.asset_key = b.asset_key AND sg.partition IS NOT DISTINCT FROM b.partition
ORDER BY b.key_id;
