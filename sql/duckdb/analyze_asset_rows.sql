-- The asset rows (not partitions) of this run's statistics, for the alert
-- rules and the capacity plan.
SELECT asset_key, materializations, successes, failures, success_rate,
       exec_time_samples, exec_time_s_mean, exec_time_s_stddev, exec_time_s_max,
       exec_time_s_latest, exec_time_s_baseline_median,
       size_known, write_bytes_mean, write_bytes_max, writes_per_day,
       write_bytes_per_day, read_bytes_per_day, compute_seconds, compute_seconds_per_day
FROM analyze_stats
WHERE partition IS NULL
ORDER BY asset_key;
