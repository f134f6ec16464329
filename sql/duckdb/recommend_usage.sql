-- What tiering needs from the latest asset_stats: one row per asset and one
-- per partition of partitioned assets, each asset's own row first. How many
-- partitions an asset has is counted while reading (the rows come grouped by
-- asset), which spares DuckDB a window over the whole table. The reader
-- checks the columns by position: keep their order.
SELECT s.as_of, s.asset_key, s.partition, s.size_bytes_latest, s.reads_per_month, s.rewrites_per_month,
       coalesce(s.history_days, 0) AS history_days, s.read_by_pipelines > 0 AS read_by_pipelines
FROM asset_stats AS s
ORDER BY s.asset_key, s.partition NULLS FIRST
