-- The demo's "Orphaned objects": per reason, the three orphan groups whose
-- action saves most a month, objects no current materialization points to
-- first.
SELECT prefix, reason, printf('%.2f', bytes / 1e9), printf(CASE WHEN cost_usd_month < 0.01 THEN '%.6f' ELSE '%.2f' END, cost_usd_month), action,
       printf(CASE WHEN savings_usd_month < 0.01 THEN '%.6f' ELSE '%.2f' END, savings_usd_month)
FROM orphaned_objects WHERE savings_usd_month > 0
QUALIFY row_number() OVER (PARTITION BY reason ORDER BY savings_usd_month DESC, prefix) <= 3
ORDER BY CASE reason WHEN 'no current materialization' THEN 0 WHEN 'noncurrent version' THEN 1 ELSE 2 END,
         savings_usd_month DESC, prefix
