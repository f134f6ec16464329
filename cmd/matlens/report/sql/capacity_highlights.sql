-- The capacity plan's deployment-wide figures: totals of every planner and
-- the network cost of the provider the recommendations priced ($1).
SELECT section, category, item, value, unit, detail
FROM capacity_plan
WHERE asset_key IS NULL AND (category IS NULL OR (section = 'network' AND category = $1))
ORDER BY rowid
