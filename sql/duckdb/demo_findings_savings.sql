-- The demo's "Biggest savings": the five assets whose moves save most a
-- month, one line per asset. A partitioned asset's own row sums its
-- partitions, and its reason reads as the lifecycle rule that makes their
-- moves ("partitions older than N days -> class").
SELECT asset_key, recommended_class, printf('%.2f', savings_usd_month), reason
FROM tier_recommendations
WHERE partition IS NULL AND savings_usd_month > 0
ORDER BY savings_usd_month DESC, asset_key LIMIT 5
