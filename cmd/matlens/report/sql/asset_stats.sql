-- Section "asset_stats": each asset's own row, then its partitions.
SELECT * FROM asset_stats
ORDER BY asset_key, partition NULLS FIRST
