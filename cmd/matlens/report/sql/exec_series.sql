-- Execution-time series of the assets with alerts, defined as analyze
-- defines it (sql/duckdb/analyze_facts.sql, analyze_series.sql): a materialization's
-- execution_time_s metadata when present, else the duration of the
-- successful attempt of its step in that run; every partition of the asset;
-- events up to as_of.
WITH ok AS (
    SELECT run_id, step_key, max(duration_ms) AS duration_ms
    FROM step_executions WHERE status = 'success'
    GROUP BY ALL
),
a AS (SELECT DISTINCT asset_key FROM alerts),
p AS (SELECT max(as_of) AS as_of FROM asset_stats)
SELECT m.asset_key, m.ts,
       coalesce(m.execution_time_s, ok.duration_ms / 1000.0) AS exec_time_s
FROM materializations m
JOIN a USING (asset_key)
LEFT JOIN ok USING (run_id, step_key), p
WHERE m.ts <= p.as_of AND coalesce(m.execution_time_s, ok.duration_ms / 1000.0) IS NOT NULL
ORDER BY m.asset_key, m.ts, m.event_id
