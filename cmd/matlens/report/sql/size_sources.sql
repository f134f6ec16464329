-- "Where sizes come from": whole assets by the source of their priced
-- size (object store: measured in an inventory or listing; metadata: the
-- size a materialization recorded).
SELECT coalesce(size_source, 'unknown') AS size_source, count(*) AS assets,
       coalesce(sum(size_bytes_latest), 0) / 1e9 AS size_gb
FROM asset_stats WHERE partition IS NULL
GROUP BY ALL ORDER BY assets DESC, size_source
