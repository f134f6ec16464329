-- Execution-time series of the assets with alerts, defined as analyze
-- defines it (sql/duckdb/analyze_facts.sql, analyze_series.sql): a materialization's
-- execution_time_s metadata when present, else the duration of the
-- successful attempt of its step in that run, which the loader keeps in
-- materialization_exec; every partition of the asset; events up to as_of.
WITH a AS (SELECT DISTINCT asset_key FROM alerts),
p AS (SELECT max(as_of) AS as_of FROM asset_stats)
SELECT m.asset_key, m.ts,
       coalesce(m.execution_time_s, f.exec_s) AS exec_time_s
FROM materializations m
JOIN a USING (asset_key)
LEFT JOIN materialization_exec f USING (event_id), p
WHERE m.ts <= p.as_of AND coalesce(m.execution_time_s, f.exec_s) IS NOT NULL
ORDER BY m.asset_key, m.ts, m.event_id
