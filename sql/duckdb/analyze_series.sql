-- Every series for gonum in one pass: the materializations and observations
-- of analyze_events that carry an execution time or a size. The rows come
-- unordered: Go orders them by asset (a counting sort on the dense asset_id)
-- and each asset's rows by (us, event_id), a total order. DuckDB 1.1's
-- ORDER BY asset_id, ts, event_id took 0.8 s of a 0.9 s query at 2M rows
-- (10,000 assets), with one thread or two; the Go sort takes a fraction.
-- us is microseconds relative to as_of (<= 0); Go turns it into days as
-- us / 86400e6, the same double division SQL would do. NULL size or exec_s
-- is unknown, never read as 0.
SELECT asset_id, part_id,
       date_diff('microsecond', getvariable('matlens_as_of'), ts) AS us,
       event_id, exec_s, size_bytes
FROM analyze_events
WHERE exec_s IS NOT NULL OR size_bytes IS NOT NULL;
