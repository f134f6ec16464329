-- Every series for gonum in one sorted pass: the materializations and
-- observations of analyze_events that carry an execution time or a size,
-- ordered by asset and time. An asset's rows are contiguous, and each of
-- its partitions' rows are the subsequence with that part_id, in the same
-- (ts, event_id) order; Go builds from them the execution-time series
-- (asset and partition), each partition's sizes, and the asset's footprint
-- (after each event, the latest size of every partition so far, summed).
-- One sort replaces a sort per series kind and two window functions.
-- t is days relative to as_of (<= 0); NULL size or exec_s is unknown, never
-- read as 0.
SELECT asset_id, part_id,
       date_diff('microsecond', getvariable('matlens_as_of'), ts) / 86400e6 AS t,
       exec_s, size_bytes
FROM analyze_events
WHERE exec_s IS NOT NULL OR size_bytes IS NOT NULL
ORDER BY asset_id, ts, event_id;
