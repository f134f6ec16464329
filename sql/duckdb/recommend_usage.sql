-- What tiering needs from the latest asset_stats: one row per asset and one
-- per partition of partitioned assets, each asset's own row first. How many
-- partitions an asset has is counted while reading (the rows come grouped by
-- asset), which spares DuckDB a window over the whole table. Where the
-- object store was measured (asset_storage), its object count, dominant
-- class, provider and key prefix come along. The reader checks the columns
-- by position: keep their order.
SELECT s.as_of, s.asset_key, s.partition, s.size_bytes_latest, s.reads_per_month, s.rewrites_per_month,
       coalesce(s.history_days, 0) AS history_days, s.read_by_pipelines > 0 AS read_by_pipelines,
       st.objects, st.storage_class, st.provider,
       regexp_replace(st.location, '^[a-z0-9]+://([^/@]+@)?[^/]+/', '') AS storage_prefix,
       s.size_source
FROM asset_stats AS s
LEFT JOIN asset_storage AS st ON st.asset_key = s.asset_key AND st.partition IS NOT DISTINCT FROM s.partition
    AND st.matched_by <> 'none'
ORDER BY s.asset_key, s.partition NULLS FIRST
