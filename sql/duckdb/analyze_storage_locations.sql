-- A location URL or path split into the provider whose prices apply, the
-- bucket (container; '' for local paths) and the key without a trailing
-- '/'. s3, s3a, s3n -> aws; gs, gcs -> gcp; az, abfs(s), wasb(s) and
-- https://<account>.blob|dfs.core.windows.net/<container>/... -> azure;
-- file:// and absolute paths -> local. Anything else (a bare key, a table
-- name) has no provider and is not matched.
CREATE OR REPLACE TEMP MACRO matlens_location_provider(loc) AS CASE
    WHEN regexp_matches(loc, '^(s3|s3a|s3n)://') THEN 'aws'
    WHEN regexp_matches(loc, '^(gs|gcs)://') THEN 'gcp'
    WHEN regexp_matches(loc, '^(az|abfs|abfss|wasb|wasbs)://')
      OR regexp_matches(loc, '^https?://[^/]+\.(blob|dfs)\.core\.windows\.net/') THEN 'azure'
    WHEN loc LIKE 'file://%' OR loc LIKE '/%' THEN 'local'
END;
CREATE OR REPLACE TEMP MACRO matlens_location_bucket(loc) AS CASE
    WHEN loc LIKE '/%' OR loc LIKE 'file://%' THEN ''
    -- abfs://container@account.dfs.core.windows.net/path
    WHEN regexp_matches(loc, '^[a-z0-9]+://[^/@]+@') THEN regexp_extract(loc, '^[a-z0-9]+://([^/@]+)@', 1)
    WHEN regexp_matches(loc, '^https?://') THEN regexp_extract(loc, '^https?://[^/]+/([^/]+)', 1)
    ELSE regexp_extract(loc, '^[a-z0-9]+://([^/]+)', 1)
END;
CREATE OR REPLACE TEMP MACRO matlens_location_key(loc) AS rtrim(CASE
    WHEN loc LIKE '/%' THEN loc
    WHEN loc LIKE 'file://%' THEN regexp_replace(loc, '^file://[^/]*', '')
    WHEN regexp_matches(loc, '^[a-z0-9]+://[^/@]+@') THEN regexp_extract(loc, '^[a-z0-9]+://[^/@]+@[^/]*/?(.*)$', 1)
    WHEN regexp_matches(loc, '^https?://') THEN regexp_extract(loc, '^https?://[^/]+/[^/]+/?(.*)$', 1)
    ELSE regexp_extract(loc, '^[a-z0-9]+://[^/]+/?(.*)$', 1)
END, '/');

-- Where each asset (and partition) lives now: the location its latest
-- materialization or handled output at or before as_of records under one
-- of the configured metadata keys (matlens_location_paths, JSONPaths in
-- order of preference: uri, dagster/uri, path, ...). A handled output takes
-- its partition from the materialization of the same run, step and asset.
-- Locations are parsed into provider, bucket and key; a trailing '/' is
-- dropped, so a directory and its objects compare on '/' boundaries.
CREATE OR REPLACE TEMP TABLE analyze_locations AS
WITH recorded AS (
    SELECT asset_key, partition, ts, event_id,
           list_filter(json_extract_string(metadata, getvariable('matlens_location_paths')), x -> x IS NOT NULL AND x <> '')[1] AS location
    FROM materializations
    WHERE metadata IS NOT NULL AND ts <= getvariable('matlens_as_of')
    UNION ALL
    SELECT h.asset_key, m.partition, h.ts, h.event_id,
           list_filter(json_extract_string(h.metadata, getvariable('matlens_location_paths')), x -> x IS NOT NULL AND x <> '')[1]
    FROM handled_outputs h
    LEFT JOIN (SELECT DISTINCT run_id, step_key, asset_key, partition FROM materializations) m
           ON m.run_id = h.run_id AND m.step_key = h.step_key AND m.asset_key = h.asset_key
    WHERE h.asset_key IS NOT NULL AND h.metadata IS NOT NULL AND h.ts <= getvariable('matlens_as_of')
),
latest AS (
    SELECT asset_key, partition, arg_max(location, (ts, event_id)) AS location
    FROM recorded WHERE location IS NOT NULL
    GROUP BY asset_key, partition
),
parsed AS (
    SELECT asset_key, partition, location, matlens_location_provider(location) AS provider,
           matlens_location_bucket(location) AS bucket, matlens_location_key(location) AS key
    FROM latest
)
SELECT * FROM parsed
WHERE provider IS NOT NULL AND bucket IS NOT NULL AND bucket <> '' OR provider = 'local' AND key <> '';

-- Every distinct location once, numbered, with its depth in '/'-separated
-- components.
CREATE OR REPLACE TEMP TABLE analyze_location_ids AS
SELECT row_number() OVER (ORDER BY provider, bucket, key) AS loc_id, provider, bucket, key,
       len(string_split(key, '/')) AS depth
FROM (SELECT DISTINCT provider, bucket, key FROM analyze_locations);

-- The prefixes objects are matched against: every location (loc_id set),
-- every ancestor of one, and the roots orphans are looked for under. A
-- bucket's root is the longest common prefix of its locations (whole
-- components; at least one component, so a bucket holding the locations
-- of one asset only is no root of anything else), plus the configured
-- matlens_orphan_roots (storage.orphan_prefixes, URLs).
CREATE OR REPLACE TEMP TABLE analyze_prefixes AS
WITH ancestors AS (
    SELECT l.provider, l.bucket, l.loc_id, l.depth, d,
           array_to_string(string_split(l.key, '/')[1:d], '/') AS prefix
    FROM analyze_location_ids l, range(1, l.depth + 1) r(d)
),
bucket_locations AS (
    SELECT provider, bucket, count(*) AS locations FROM analyze_location_ids GROUP BY ALL
),
-- The deepest depth at which every location of the bucket has the same
-- prefix (a location shallower than d has no prefix there, so it must
-- count all of them).
lcp AS (
    SELECT provider, bucket, max(d) AS depth
    FROM (SELECT provider, bucket, d, count(DISTINCT prefix) AS n, count(*) AS located
          FROM ancestors GROUP BY ALL)
    JOIN bucket_locations USING (provider, bucket)
    WHERE n = 1 AND located = locations
    GROUP BY ALL
),
roots AS (
    SELECT DISTINCT a.provider, a.bucket, a.prefix, a.d AS depth
    FROM ancestors a
    JOIN lcp USING (provider, bucket)
    JOIN bucket_locations b USING (provider, bucket)
    WHERE a.d = lcp.depth AND (b.locations > 1 OR lcp.depth < a.depth)
    UNION
    SELECT matlens_location_provider(r), matlens_location_bucket(r), matlens_location_key(r),
           len(string_split(matlens_location_key(r), '/'))
    FROM (SELECT unnest(getvariable('matlens_orphan_roots')) AS r)
    WHERE matlens_location_provider(r) IS NOT NULL AND matlens_location_key(r) <> ''
)
SELECT provider, bucket, prefix, depth,
       max(loc_id) AS loc_id, bool_or(is_root) AS is_root
FROM (
    SELECT provider, bucket, prefix, d AS depth, CASE WHEN d = depth THEN loc_id END AS loc_id, false AS is_root
    FROM ancestors
    UNION ALL
    SELECT provider, bucket, prefix, depth, NULL, true FROM roots
)
GROUP BY provider, bucket, prefix, depth;
