-- One batch of objects from a listing or a directory walk, read from the
-- Arrow view the loader registers. $1 source id, $2 provider, $3 snapshot_at.
INSERT INTO storage_objects
SELECT $1, $2, bucket, key, version, size_bytes, storage_class, access_tier,
       last_modified, is_latest, is_delete_marker, $3
FROM matlens_objects_batch;
