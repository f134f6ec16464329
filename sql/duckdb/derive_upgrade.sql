-- For a file written before step_executions.partition and
-- materialization_exec existed, or loaded into by an earlier matlens since
-- (an ingest_runs row without derive_version): fill the partition from all
-- loaded rows (what derive_steps.sql keeps up to date for the runs each
-- batch touches), mark every run touched so that derive_exec.sql, run next,
-- fills materialization_exec, and mark the ingest runs as covered. Needs
-- run_spans complete (run_spans_backfill.sql runs first).
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
CREATE OR REPLACE TEMP TABLE touched_runs AS SELECT run_id, first_event_id FROM run_spans;
UPDATE ingest_runs SET derive_version = 0 WHERE derive_version IS NULL;
