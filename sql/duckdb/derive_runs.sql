-- One runs row per Dagster run, rebuilt from the run events (stored as
-- PIPELINE_*; RUN_* accepted from other producers) of the touched runs.
-- $1: lowest event id of the touched runs (run_spans.sql).
DELETE FROM runs WHERE run_id IN (SELECT run_id FROM touched_runs);
INSERT INTO runs (run_id, job_name, status, started_at, finished_at)
SELECT run_id,
       any_value(job_name) AS job_name,
       CASE WHEN bool_or(event_type IN ('PIPELINE_SUCCESS', 'RUN_SUCCESS')) THEN 'success'
            WHEN bool_or(event_type IN ('PIPELINE_FAILURE', 'RUN_FAILURE', 'PIPELINE_INIT_FAILURE')) THEN 'failure'
            WHEN bool_or(event_type IN ('PIPELINE_CANCELED', 'RUN_CANCELED')) THEN 'canceled'
            WHEN bool_or(event_type IN ('PIPELINE_CANCELING', 'RUN_CANCELING')) THEN 'canceling'
            WHEN bool_or(event_type IN ('PIPELINE_START', 'RUN_START')) THEN 'started'
            WHEN bool_or(event_type IN ('PIPELINE_STARTING', 'RUN_STARTING')) THEN 'starting'
            ELSE 'queued' END AS status,
       min(ts) FILTER (WHERE event_type IN ('PIPELINE_START', 'RUN_START')) AS started_at,
       max(ts) FILTER (WHERE event_type IN ('PIPELINE_SUCCESS', 'RUN_SUCCESS', 'PIPELINE_FAILURE', 'RUN_FAILURE',
                                            'PIPELINE_INIT_FAILURE', 'PIPELINE_CANCELED', 'RUN_CANCELED')) AS finished_at
FROM run_events
WHERE event_id >= $1 AND run_id IN (SELECT run_id FROM touched_runs)
GROUP BY run_id;
