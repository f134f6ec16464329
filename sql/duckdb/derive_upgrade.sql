-- Fill step_executions.partition and materialization_exec from all loaded
-- rows (what derive_steps.sql and derive_exec.sql keep up to date for the
-- runs each batch touches), for a file written before they existed or
-- loaded into by an earlier matlens since (an ingest_runs row without
-- derive_version), and mark those runs as covered.
UPDATE step_executions AS s SET partition = p.partition
FROM (
    SELECT run_id, step_key, min(partition) AS partition
    FROM (
        SELECT run_id, step_key, partition FROM materializations WHERE partition IS NOT NULL
        UNION ALL
        SELECT run_id, step_key, partition FROM materialization_planned WHERE partition IS NOT NULL
    )
    GROUP BY run_id, step_key
) AS p
WHERE s.run_id = p.run_id AND s.step_key = p.step_key;
DELETE FROM materialization_exec;
INSERT INTO materialization_exec (event_id, run_id, exec_s)
SELECT m.event_id, m.run_id, max(s.duration_ms) / 1000.0
FROM materializations m
JOIN step_executions s ON s.run_id = m.run_id AND s.step_key = m.step_key
WHERE m.execution_time_s IS NULL AND s.status = 'success'
GROUP BY m.event_id, m.run_id;
UPDATE ingest_runs SET derive_version = 0 WHERE derive_version IS NULL;
