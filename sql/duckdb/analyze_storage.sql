-- What the matched objects say about each location: current bytes and
-- objects (the latest version of each, delete markers excluded),
-- noncurrent versions (billed too), the newest modification, whether an
-- object sits exactly at the location (a file) or only below it (a
-- directory, a Parquet dataset, a Delta table).
CREATE OR REPLACE TEMP TABLE analyze_location_totals AS
SELECT loc_id,
       coalesce(sum(bytes) FILTER (WHERE is_latest AND NOT is_delete_marker), 0) AS bytes,
       coalesce(sum(objects) FILTER (WHERE is_latest AND NOT is_delete_marker), 0) AS objects,
       coalesce(sum(bytes) FILTER (WHERE NOT is_latest AND NOT is_delete_marker), 0) AS noncurrent_bytes,
       coalesce(sum(objects) FILTER (WHERE NOT is_latest AND NOT is_delete_marker), 0) AS noncurrent_objects,
       coalesce(sum(objects) FILTER (WHERE is_delete_marker), 0) AS delete_markers,
       max(newest_modified) FILTER (WHERE is_latest AND NOT is_delete_marker) AS last_modified,
       sum(exact_objects) FILTER (WHERE is_latest AND NOT is_delete_marker) > 0 AS exact
FROM analyze_object_groups
WHERE loc_id IS NOT NULL
GROUP BY loc_id;

-- Current bytes and objects per location and storage class.
CREATE OR REPLACE TEMP TABLE analyze_location_classes AS
SELECT loc_id, coalesce(storage_class, 'unknown') AS storage_class, sum(bytes) AS bytes, sum(objects) AS objects
FROM analyze_object_groups
WHERE loc_id IS NOT NULL AND is_latest AND NOT is_delete_marker
GROUP BY ALL;

-- A location is covered when a loaded source lists its bucket (or, for a
-- local path, a walked directory contains it): only then does finding
-- nothing mean the objects are gone rather than unknown.
CREATE OR REPLACE TEMP TABLE analyze_covered AS
SELECT i.loc_id
FROM analyze_location_ids i
WHERE EXISTS (SELECT 1 FROM analyze_object_sources s
              WHERE s.provider = i.provider AND s.bucket = i.bucket AND i.provider <> 'local')
   OR EXISTS (SELECT 1 FROM storage_sources s
              WHERE i.provider = 'local' AND s.kind = 'path'
                AND (i.key = substr(s.source, 6) OR starts_with(i.key, substr(s.source, 6) || '/')));

-- asset_storage rows: one per (asset, partition) location, and the asset's
-- own row (partition NULL) summing its distinct locations, so partitions
-- sharing one directory are counted once. The own row's location is the
-- asset's unpartitioned location, else the longest common prefix of its
-- partitions' (what a lifecycle rule for the asset targets).
CREATE OR REPLACE TEMP TABLE analyze_asset_storage AS
WITH located AS (
    SELECT l.asset_key, l.partition, l.location, l.provider, l.bucket, l.key, i.loc_id
    FROM analyze_locations l
    JOIN analyze_location_ids i USING (provider, bucket, key)
    SEMI JOIN analyze_covered c USING (loc_id)
),
own_locations AS (
    SELECT DISTINCT asset_key, loc_id FROM located
),
classes AS (
    SELECT o.asset_key, c.storage_class, sum(c.bytes) AS bytes
    FROM own_locations o JOIN analyze_location_classes c USING (loc_id)
    GROUP BY ALL
),
own AS (
    SELECT o.asset_key, count(*) AS locations,
           sum(t.bytes) AS bytes, sum(t.objects) AS objects,
           sum(t.noncurrent_bytes) AS noncurrent_bytes, sum(t.noncurrent_objects) AS noncurrent_objects,
           sum(t.delete_markers) AS delete_markers, max(t.last_modified) AS last_modified,
           bool_and(coalesce(t.exact, false)) AS all_exact, bool_or(t.loc_id IS NOT NULL) AS any_found
    FROM own_locations o LEFT JOIN analyze_location_totals t USING (loc_id)
    GROUP BY o.asset_key
),
asset_prefix AS (
    -- The longest common prefix of the asset's locations, in whole
    -- components.
    SELECT asset_key, provider, bucket,
           array_to_string(string_split(any_value(key), '/')[1:max(d)], '/') AS key
    FROM (
        SELECT asset_key, provider, bucket, d, count(DISTINCT array_to_string(string_split(key, '/')[1:d], '/')) AS n,
               count(DISTINCT key) AS located, any_value(key) AS key
        FROM located, range(1, len(string_split(key, '/')) + 1) r(d)
        GROUP BY ALL
    )
    JOIN (SELECT asset_key, count(DISTINCT key) AS locations FROM located GROUP BY ALL) USING (asset_key)
    WHERE n = 1 AND located = locations
    GROUP BY ALL
),
own_location AS (
    SELECT a.asset_key, coalesce(u.location, CASE a.provider
               WHEN 'aws' THEN 's3://' || a.bucket || '/' || a.key
               WHEN 'gcp' THEN 'gs://' || a.bucket || '/' || a.key
               WHEN 'azure' THEN 'az://' || a.bucket || '/' || a.key
               ELSE a.key END) AS location,
           a.provider, a.bucket
    FROM asset_prefix a
    LEFT JOIN (SELECT asset_key, any_value(location) AS location FROM located WHERE partition IS NULL GROUP BY ALL) u USING (asset_key)
)
SELECT getvariable('matlens_as_of') AS as_of, l.asset_key, l.partition, l.location, l.provider, l.bucket,
       coalesce(t.bytes, 0) AS bytes, coalesce(t.objects, 0) AS objects,
       coalesce(t.noncurrent_bytes, 0) AS noncurrent_bytes, coalesce(t.noncurrent_objects, 0) AS noncurrent_objects,
       coalesce(t.delete_markers, 0) AS delete_markers,
       (SELECT map(list(c.storage_class ORDER BY c.storage_class), list(c.bytes ORDER BY c.storage_class))
        FROM analyze_location_classes c WHERE c.loc_id = l.loc_id) AS bytes_by_class,
       (SELECT arg_max(c.storage_class, (c.bytes, c.storage_class)) FROM analyze_location_classes c WHERE c.loc_id = l.loc_id) AS storage_class,
       t.last_modified,
       CASE WHEN t.loc_id IS NULL OR t.objects = 0 THEN 'none' WHEN t.exact AND t.objects = 1 THEN 'exact' ELSE 'prefix' END AS matched_by
FROM located l LEFT JOIN analyze_location_totals t USING (loc_id)
WHERE l.partition IS NOT NULL
UNION ALL
SELECT getvariable('matlens_as_of'), o.asset_key, NULL, ol.location, ol.provider, ol.bucket,
       coalesce(o.bytes, 0), coalesce(o.objects, 0), coalesce(o.noncurrent_bytes, 0), coalesce(o.noncurrent_objects, 0),
       coalesce(o.delete_markers, 0),
       (SELECT map(list(c.storage_class ORDER BY c.storage_class), list(c.bytes ORDER BY c.storage_class))
        FROM classes c WHERE c.asset_key = o.asset_key),
       (SELECT arg_max(c.storage_class, (c.bytes, c.storage_class)) FROM classes c WHERE c.asset_key = o.asset_key),
       o.last_modified,
       CASE WHEN NOT o.any_found OR coalesce(o.objects, 0) = 0 THEN 'none'
            WHEN o.all_exact AND o.objects = o.locations THEN 'exact' ELSE 'prefix' END
FROM own o JOIN own_location ol USING (asset_key);

-- orphaned_objects: objects under an orphan root that no current location
-- takes, grouped by prefix and class; and, under live locations, the
-- noncurrent versions and delete markers nobody reads (billed all the same).
CREATE OR REPLACE TEMP TABLE analyze_orphans AS
SELECT getvariable('matlens_as_of') AS as_of,
       CASE g.provider WHEN 'aws' THEN 's3://' WHEN 'gcp' THEN 'gs://' WHEN 'azure' THEN 'az://' ELSE '' END
           || CASE WHEN g.provider = 'local' THEN '' ELSE g.bucket || '/' END
           || coalesce(g.orphan_prefix, i.key) AS prefix,
       g.provider, g.bucket,
       CASE WHEN g.loc_id IS NULL AND g.is_latest AND NOT g.is_delete_marker THEN 'no current materialization'
            WHEN g.is_delete_marker THEN 'delete marker'
            ELSE 'noncurrent version' END AS reason,
       coalesce(g.storage_class, 'unknown') AS storage_class,
       sum(g.objects) AS objects, sum(g.bytes) AS bytes, max(g.newest_modified) AS newest_modified
FROM analyze_object_groups g
LEFT JOIN analyze_location_ids i USING (loc_id)
WHERE g.loc_id IS NULL OR NOT g.is_latest OR g.is_delete_marker
GROUP BY ALL;

-- analyze_storage_growth: growth measured from real bytes, for each asset
-- and partition measured at two or more analyze times in the window (the
-- asset_storage_history of earlier runs plus this run): bytes per day, the
-- least-squares slope of bytes over time, as describeSize fits recorded
-- sizes. Measurements where nothing was found at the location do not count:
-- they say the store was not loaded or the objects are gone, not that the
-- asset shrank.
CREATE OR REPLACE TEMP TABLE analyze_storage_growth AS
WITH points AS (
    SELECT asset_key, partition, as_of, bytes FROM asset_storage_history
    WHERE matched_by <> 'none' AND as_of >= getvariable('matlens_window_start') AND as_of < getvariable('matlens_as_of')
    UNION ALL
    SELECT asset_key, partition, as_of, bytes FROM analyze_asset_storage WHERE matched_by <> 'none'
)
SELECT asset_key, partition, regr_slope(bytes, epoch_us(as_of) / 86400e6) AS growth_bytes_per_day,
       count(*) AS measurements
FROM points
GROUP BY asset_key, partition
HAVING count(DISTINCT as_of) >= 2;
