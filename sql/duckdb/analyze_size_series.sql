-- Size series for gonum: (key_id, t, v) ordered by key_id and t, where t is
-- days relative to as_of (<= 0) and v is bytes. Sizes come from
-- materializations and observations that recorded one (NULL = unknown is
-- left out, never read as 0). A partition row's series is that partition's
-- sizes; an asset row's series is the asset's footprint: after each event,
-- the sum of the latest size of every partition so far (for an
-- unpartitioned asset, simply its size).
WITH p AS (SELECT * FROM analyze_params),
s AS (
    SELECT event_id, asset_key, partition, ts, CAST(size_bytes AS DOUBLE) AS v
    FROM materializations, p WHERE size_bytes IS NOT NULL AND ts <= p.as_of
    UNION ALL
    SELECT event_id, asset_key, partition, ts, CAST(size_bytes AS DOUBLE)
    FROM observations, p WHERE size_bytes IS NOT NULL AND ts <= p.as_of
),
d AS (
    SELECT *, v - coalesce(lag(v) OVER (PARTITION BY asset_key, partition ORDER BY ts, event_id), 0) AS delta
    FROM s
),
f AS (
    SELECT event_id, asset_key, ts,
           sum(delta) OVER (PARTITION BY asset_key ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS v
    FROM d
)
SELECT key_id, date_diff('microsecond', as_of, ts) / 86400e6 AS t, v FROM (
    SELECT k.key_id, f.ts, f.event_id, f.v
    FROM f JOIN analyze_base k ON k.asset_key = f.asset_key AND k.partition IS NULL
    UNION ALL
    SELECT k.key_id, s.ts, s.event_id, s.v
    FROM s JOIN analyze_base k ON k.asset_key = s.asset_key AND k.partition = s.partition
), p
ORDER BY key_id, ts, event_id;
