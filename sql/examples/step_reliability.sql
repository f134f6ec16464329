-- Step attempts by outcome. A retried attempt that later succeeded is not a
-- failure (the Dagster+ Insights definition).
SELECT step_key,
       count(*) FILTER (WHERE status = 'success')  AS succeeded,
       count(*) FILTER (WHERE status = 'failure')  AS failed,
       count(*) FILTER (WHERE status = 'retried')  AS retried_attempts,
       round(count(*) FILTER (WHERE status = 'success')
             / nullif(count(*) FILTER (WHERE status IN ('success', 'failure')), 0), 4) AS success_rate,
       round(median(duration_ms) FILTER (WHERE status = 'success') / 1000, 2) AS median_seconds,
       bool_or(shared_step) AS multi_asset_step
FROM step_executions
GROUP BY step_key
ORDER BY failed DESC, success_rate;
