-- materialization_exec for the touched runs, after their step executions
-- are rebuilt (derive_steps.sql): each materialization without
-- execution_time_s takes the longest successful attempt of its step in its
-- run. A run's materializations and step executions are rebuilt together,
-- so a step that succeeds in a later batch than its materialization fills
-- it in then.
-- $1: lowest event id of the touched runs (run_spans.sql). (Parameters bind
-- to the last statement, the INSERT.)
DELETE FROM materialization_exec WHERE run_id IN (SELECT run_id FROM touched_runs);
INSERT INTO materialization_exec (event_id, run_id, exec_s)
SELECT m.event_id, m.run_id, max(s.duration_ms) / 1000.0
FROM materializations m
JOIN step_executions s ON s.run_id = m.run_id AND s.step_key = m.step_key
WHERE m.event_id >= $1 AND m.run_id IN (SELECT run_id FROM touched_runs)
  AND m.execution_time_s IS NULL AND s.status = 'success'
  AND s.run_id IN (SELECT run_id FROM touched_runs)
GROUP BY m.event_id, m.run_id;
