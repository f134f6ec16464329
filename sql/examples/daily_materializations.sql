-- Materializations and bytes written per asset per day (UTC).
SELECT asset_key,
       date_trunc('day', ts)::DATE AS day,
       count(*)                    AS materializations,
       sum(size_bytes)             AS bytes_written
FROM materializations
GROUP BY asset_key, day
ORDER BY asset_key, day;
