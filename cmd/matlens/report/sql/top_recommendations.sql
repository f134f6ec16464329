-- The moves that save the most, for the text and HTML reports ($1 = how
-- many), one line per asset: a partitioned asset's own row sums its
-- partitions and its reason reads as the lifecycle rule that makes their
-- moves; the partition rows behind it are in the recommendations export.
SELECT asset_key, partition, provider, current_class, recommended_class, action, size_source,
       access_category, size_gb, cost_now_usd_month, cost_recommended_usd_month,
       savings_usd_month, savings_usd_year, payback_months, reason
FROM tier_recommendations
WHERE savings_usd_month > 0 AND partition IS NULL
ORDER BY savings_usd_month DESC, asset_key
LIMIT $1
