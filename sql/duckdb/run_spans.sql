-- Record where each touched run begins (a late-committed event may lower it),
-- then give touched_runs the run's lowest id ever loaded: every event of the
-- touched runs lies at or above min(touched_runs.first_event_id), so the
-- derivations scan only that id range, and DuckDB skips the row groups below
-- it by their min/max instead of scanning whole tables at every batch.
UPDATE run_spans AS s SET first_event_id = t.first_event_id
FROM touched_runs AS t
WHERE s.run_id = t.run_id AND t.first_event_id < s.first_event_id;
INSERT INTO run_spans (run_id, first_event_id)
SELECT run_id, first_event_id FROM touched_runs ANTI JOIN run_spans USING (run_id);
UPDATE touched_runs AS t SET first_event_id = s.first_event_id
FROM run_spans AS s
WHERE s.run_id = t.run_id AND s.first_event_id < t.first_event_id;
