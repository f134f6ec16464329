-- One step_executions row per attempt of a step in a run, rebuilt from all
-- step events of the touched runs. An attempt begins with STEP_START (first)
-- or STEP_RESTARTED (retries); its status is how it ended. A step that
-- materializes several assets is marked shared: its duration belongs to all
-- of them and must not be added up per asset. Its partition is the smallest
-- its run's materializations or planned materializations of it name.
-- $1: lowest event id of the touched runs (run_spans.sql): only that id range
-- is scanned. (Parameters bind to the last statement, the INSERT.)
DELETE FROM step_executions WHERE run_id IN (SELECT run_id FROM touched_runs);
INSERT INTO step_executions
    (run_id, job_name, step_key, attempt, started_at, finished_at, duration_ms, status, asset_keys, shared_step, partition)
WITH ev AS (
    SELECT *,
           sum(CASE WHEN event_type IN ('STEP_START', 'STEP_RESTARTED') THEN 1 ELSE 0 END)
               OVER (PARTITION BY run_id, step_key ORDER BY event_id ROWS UNBOUNDED PRECEDING) AS began
    FROM step_events
    WHERE event_id >= $1 AND run_id IN (SELECT run_id FROM touched_runs) AND step_key IS NOT NULL
),
att AS (
    SELECT run_id, step_key, greatest(began, 1) AS attempt,
           any_value(job_name) AS job_name,
           min(ts) FILTER (WHERE event_type IN ('STEP_START', 'STEP_RESTARTED')) AS started_at,
           max(ts) FILTER (WHERE event_type IN ('STEP_SUCCESS', 'STEP_FAILURE', 'STEP_UP_FOR_RETRY', 'STEP_SKIPPED')) AS finished_at,
           max(duration_ms) FILTER (WHERE event_type = 'STEP_SUCCESS') AS success_ms,
           CASE WHEN bool_or(event_type = 'STEP_SUCCESS') THEN 'success'
                WHEN bool_or(event_type = 'STEP_FAILURE') THEN 'failure'
                WHEN bool_or(event_type = 'STEP_UP_FOR_RETRY') THEN 'retried'
                WHEN bool_or(event_type = 'STEP_SKIPPED') THEN 'skipped'
                ELSE 'unfinished' END AS status
    FROM ev
    GROUP BY run_id, step_key, greatest(began, 1)
),
assets AS (
    SELECT run_id, step_key, list(DISTINCT asset_key ORDER BY asset_key) AS asset_keys,
           min(partition) AS partition
    FROM (
        SELECT run_id, step_key, asset_key, partition FROM materializations
        WHERE event_id >= $1 AND run_id IN (SELECT run_id FROM touched_runs)
        UNION
        SELECT run_id, step_key, asset_key, partition FROM materialization_planned
        WHERE event_id >= $1 AND run_id IN (SELECT run_id FROM touched_runs)
    )
    WHERE step_key IS NOT NULL
    GROUP BY run_id, step_key
)
SELECT a.run_id, a.job_name, a.step_key, a.attempt, a.started_at, a.finished_at,
       coalesce(a.success_ms, date_diff('microsecond', a.started_at, a.finished_at) / 1000.0) AS duration_ms,
       a.status,
       coalesce(s.asset_keys, []::VARCHAR[]) AS asset_keys,
       coalesce(len(s.asset_keys) > 1, false) AS shared_step,
       s.partition
FROM att AS a
LEFT JOIN assets AS s USING (run_id, step_key);
