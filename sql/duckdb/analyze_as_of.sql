-- The default as_of: the latest event timestamp in the fact tables, so a run
-- over a given DuckDB file is deterministic (fixture data dated in the past
-- is analyzed as of its own last event, not as of the wall clock).
SELECT max(ts) FROM (
    SELECT max(ts) AS ts FROM materializations
    UNION ALL SELECT max(ts) FROM observations
    UNION ALL SELECT max(ts) FROM asset_reads
    UNION ALL SELECT max(finished_at) FROM step_executions
);
