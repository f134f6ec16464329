-- One row per asset and provider: its storage cost now and after the
-- recommended moves, the moves, and its compute cost from the capacity plan.
-- A partitioned asset's own row prices the same bytes as its partitions, so
-- it is left out when partition rows exist (the rule tier_savings_summary
-- follows); summing these rows gives the summary's totals.
WITH r AS (
    SELECT *, count(partition) OVER (PARTITION BY provider, asset_key) AS partitions
    FROM tier_recommendations
),
compute AS (
    SELECT asset_key, value AS compute_usd_month
    FROM capacity_plan
    WHERE section = 'compute' AND item = 'cost_usd_per_month' AND asset_key IS NOT NULL
)
SELECT r.provider, r.asset_key,
       count(*)                                    AS rows,
       count(*) FILTER (WHERE r.action = 'move')   AS moves,
       sum(r.size_gb)                              AS size_gb,
       sum(r.cost_now_usd_month)                   AS cost_now_usd_month,
       sum(r.cost_recommended_usd_month)           AS cost_after_usd_month,
       sum(r.savings_usd_month)                    AS savings_usd_month,
       any_value(c.compute_usd_month)              AS compute_usd_month
FROM r LEFT JOIN compute c USING (asset_key)
WHERE r.partition IS NOT NULL OR r.partitions = 0
GROUP BY r.provider, r.asset_key
ORDER BY r.provider, r.asset_key
