-- The orphan groups whose action saves most, for the text and HTML
-- reports ($1 = how many per reason): objects no current materialization
-- points to first (the ones nobody knows about), then old versions and
-- delete markers. Every group is in the orphaned_objects export.
SELECT prefix, reason, storage_class, objects, bytes / 1e9 AS size_gb, newest_modified,
       cost_usd_month, action, savings_usd_month
FROM orphaned_objects
QUALIFY row_number() OVER (PARTITION BY reason ORDER BY savings_usd_month DESC NULLS LAST, bytes DESC, prefix) <= $1
ORDER BY CASE reason WHEN 'no current materialization' THEN 0 WHEN 'noncurrent version' THEN 1 ELSE 2 END,
         savings_usd_month DESC NULLS LAST, bytes DESC, prefix
