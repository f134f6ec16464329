-- The objects of inventory files DuckDB reads itself. The placeholder below is the
-- reader's SELECT (read_csv / read_parquet over the report's data files)
-- yielding the columns below by name. $1 source id, $2 provider,
-- $3 snapshot_at; the reader's own parameters follow.
INSERT INTO storage_objects
SELECT $1, $2, bucket, key, version, size_bytes, storage_class, access_tier,
       last_modified, is_latest, is_delete_marker, $3
FROM ({{select}});
