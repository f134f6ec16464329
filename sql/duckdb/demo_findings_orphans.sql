-- The demo's "Orphaned objects": the five orphan groups whose action saves
-- most a month.
SELECT prefix, reason, printf('%.2f', bytes / 1e9), printf('%.2f', cost_usd_month), action, printf('%.2f', savings_usd_month)
FROM orphaned_objects WHERE savings_usd_month > 0
ORDER BY savings_usd_month DESC, prefix LIMIT 5
