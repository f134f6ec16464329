-- Size over time of the $1 fastest-growing assets (asset_stats'
-- size_growth_bytes_per_day), each row carrying the asset's latest size and
-- forecasts. The series is analyze's (sql/duckdb/analyze_series.sql, analyze/scan.go):
-- the asset's footprint after each event that recorded a size, i.e. the sum
-- of the latest size of every partition so far (for an unpartitioned asset,
-- simply its size).
WITH p AS (SELECT max(as_of) AS as_of FROM asset_stats),
top AS (
    SELECT asset_key, size_bytes_latest, size_growth_bytes_per_day,
           size_bytes_forecast_30d, size_bytes_forecast_90d,
           row_number() OVER (ORDER BY size_growth_bytes_per_day DESC, asset_key) AS rank
    FROM asset_stats
    WHERE partition IS NULL AND size_growth_bytes_per_day > 0
    ORDER BY rank
    LIMIT $1
),
s AS (
    SELECT event_id, asset_key, partition, ts, CAST(size_bytes AS DOUBLE) AS v
    FROM materializations JOIN top USING (asset_key), p
    WHERE size_bytes IS NOT NULL AND ts <= p.as_of
    UNION ALL
    SELECT event_id, asset_key, partition, ts, CAST(size_bytes AS DOUBLE)
    FROM observations JOIN top USING (asset_key), p
    WHERE size_bytes IS NOT NULL AND ts <= p.as_of
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
SELECT top.rank, f.asset_key, f.ts, f.v AS size_bytes, p.as_of,
       top.size_bytes_latest, top.size_growth_bytes_per_day,
       top.size_bytes_forecast_30d, top.size_bytes_forecast_90d
FROM f JOIN top USING (asset_key), p
ORDER BY top.rank, f.ts, f.event_id
