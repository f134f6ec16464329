-- The demo's "Assets that cost most to store": the five whole assets with
-- the highest monthly cost in their current class, and where the size came
-- from.
SELECT asset_key, current_class, printf('%.2f', cost_now_usd_month), printf('%.1f', size_gb), coalesce(size_source, 'unknown')
FROM tier_recommendations WHERE partition IS NULL AND cost_now_usd_month IS NOT NULL
ORDER BY cost_now_usd_month DESC LIMIT 5
