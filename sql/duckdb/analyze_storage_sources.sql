-- Which loaded objects count: per bucket the source with the newest
-- snapshot (an inventory and a listing of one bucket would otherwise count
-- its objects twice); local directory walks all count, each its own tree.
CREATE OR REPLACE TEMP TABLE analyze_object_sources AS
SELECT source, provider, bucket
FROM (
    SELECT s.source, s.provider, b.bucket,
           row_number() OVER (PARTITION BY s.provider, b.bucket ORDER BY s.snapshot_at DESC, s.source) AS rank
    FROM storage_sources s
    JOIN (SELECT DISTINCT source, bucket FROM storage_objects) b USING (source)
)
WHERE rank = 1 OR provider = 'local';
