-- Last statement of a snapshot's transaction: record what was loaded and
-- return its counts. $1 source, $2 kind, $3 provider, $4 snapshot_at, $5 files.
INSERT OR REPLACE INTO storage_sources
SELECT $1, $2, $3, $4, now()::TIMESTAMP, $5,
       count(*), coalesce(sum(size_bytes), 0),
       count(*) FILTER (WHERE NOT is_latest AND NOT is_delete_marker),
       count(*) FILTER (WHERE is_delete_marker)
FROM storage_objects WHERE source = $1
RETURNING objects, bytes, noncurrent, delete_markers;
