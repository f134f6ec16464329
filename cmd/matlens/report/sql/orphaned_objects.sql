-- Section "orphaned_objects": billed objects no asset's current
-- materialization points to, grouped by prefix, biggest saving first.
SELECT * FROM orphaned_objects
ORDER BY savings_usd_month DESC NULLS LAST, bytes DESC, prefix
