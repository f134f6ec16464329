-- The demo's "Where sizes come from": whole assets by size source.
SELECT coalesce(size_source, 'unknown'), count(*), printf('%.1f', coalesce(sum(size_bytes_latest), 0) / 1e9)
FROM asset_stats WHERE partition IS NULL
GROUP BY ALL ORDER BY 1
