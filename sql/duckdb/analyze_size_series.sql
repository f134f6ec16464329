-- Size series for gonum: (key_id, t, v) ordered by key_id and t, where t is
-- days relative to as_of (<= 0) and v is bytes. Sizes come from
-- materializations and observations that recorded one (NULL = unknown is
-- left out, never read as 0). A partition row's series is that partition's
-- sizes; an asset row's series is the asset's footprint: after each event,
-- the sum of the latest size of every partition so far (for an
-- unpartitioned asset, simply its size).
-- Read from analyze_events; keys are integers (asset_id, part_id).
-- The footprint is summed in integers (HUGEINT) and converted once: a sum
-- that does not depend on how a parallel plan groups the additions.
WITH s AS (
    SELECT asset_id, part_id, event_id, ts, size_bytes
    FROM analyze_events WHERE size_bytes IS NOT NULL
),
d AS (
    SELECT *, size_bytes - coalesce(lag(size_bytes) OVER (PARTITION BY asset_id, part_id ORDER BY ts, event_id), 0) AS delta
    FROM s
),
f AS (
    SELECT asset_id, event_id, ts,
           CAST(sum(CAST(delta AS HUGEINT)) OVER (PARTITION BY asset_id ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS DOUBLE) AS v
    FROM d
)
SELECT key_id, date_diff('microsecond', getvariable('matlens_as_of'), ts) / 86400e6 AS t, v FROM (
    SELECT asset_id AS key_id, ts, event_id, v FROM f
    UNION ALL
    SELECT part_id, ts, event_id, CAST(size_bytes AS DOUBLE) FROM s WHERE part_id IS NOT NULL
)
ORDER BY key_id, ts, event_id;
