-- The moves that save the most, for the text and HTML reports ($1 = how
-- many): partitions and unpartitioned assets, the rows a lifecycle rule acts
-- on. A partitioned asset's own row sums its partitions and would repeat
-- them (the per-asset view is asset_costs.sql).
WITH r AS (
    SELECT *, count(partition) OVER (PARTITION BY provider, asset_key) AS partitions
    FROM tier_recommendations
)
SELECT asset_key, partition, provider, current_class, recommended_class, action,
       access_category, size_gb, cost_now_usd_month, cost_recommended_usd_month,
       savings_usd_month, savings_usd_year, payback_months, reason
FROM r
WHERE savings_usd_month > 0 AND (partition IS NOT NULL OR partitions = 0)
ORDER BY savings_usd_month DESC, asset_key, partition NULLS FIRST
LIMIT $1
