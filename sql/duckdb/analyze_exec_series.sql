-- Execution-time series for gonum: (key_id, v) ordered by key_id and time,
-- so each asset's and each partition's series is one contiguous run of rows.
-- A materialization's execution time is its execution_time_s metadata when
-- present, else the duration of the successful attempt of its step in that
-- run. Asset rows get every materialization of the asset (all partitions),
-- partition rows their own.
WITH p AS (SELECT * FROM analyze_params),
ok AS (
    SELECT run_id, step_key, max(duration_ms) AS duration_ms
    FROM step_executions WHERE status = 'success'
    GROUP BY ALL
),
m AS (
    SELECT m.event_id, m.asset_key, m.partition, m.ts,
           coalesce(m.execution_time_s, ok.duration_ms / 1000.0) AS v
    FROM materializations m LEFT JOIN ok USING (run_id, step_key), p
    WHERE m.ts <= p.as_of
)
SELECT key_id, v FROM (
    SELECT k.key_id, m.ts, m.event_id, m.v
    FROM m JOIN analyze_base k ON k.asset_key = m.asset_key AND k.partition IS NULL
    WHERE m.v IS NOT NULL
    UNION ALL
    SELECT k.key_id, m.ts, m.event_id, m.v
    FROM m JOIN analyze_base k ON k.asset_key = m.asset_key AND k.partition = m.partition
    WHERE m.v IS NOT NULL
)
ORDER BY key_id, ts, event_id;
