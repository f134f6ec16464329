-- Every counted object under a location or an orphan root, matched to the
-- deepest location that is it or one of its '/'-ancestors (raw/orders
-- takes raw/orders and raw/orders/part-0, never raw/orders_backup), and
-- aggregated by location, orphan prefix and class in one pass: no table
-- of objects is built. The Go side fills the placeholders with one
-- equality join per prefix depth 1..D (D the deepest location), so each
-- join is a hash probe into analyze_prefixes, which is small.
-- known_depth is the depth of the deepest ancestor that is a prefix of
-- some location; an unmatched object under a root is an orphan, grouped
-- one component below it (raw/orders_backup, legacy/retired_asset).
CREATE OR REPLACE TEMP TABLE analyze_object_groups AS
WITH o AS (
    SELECT s.provider, s.bucket, s.key, string_split(s.key, '/') AS parts, s.size_bytes,
           s.storage_class, s.last_modified, s.is_latest, s.is_delete_marker
    FROM storage_objects s
    SEMI JOIN analyze_object_sources src USING (source, provider, bucket)
    SEMI JOIN (SELECT DISTINCT provider, bucket FROM analyze_prefixes) pb USING (provider, bucket)
),
m AS (
    SELECT o.*, {{loc_id}} AS loc_id, {{loc_depth}} AS loc_depth,
           {{known_depth}} AS known_depth, {{under_root}} AS under_root
    FROM o
{{joins}}
)
SELECT provider, bucket, loc_id,
       CASE WHEN loc_id IS NULL THEN array_to_string(parts[1:known_depth + 1], '/') END AS orphan_prefix,
       storage_class, is_latest, is_delete_marker,
       count(*) AS objects, sum(size_bytes) AS bytes, max(last_modified) AS newest_modified,
       count(*) FILTER (WHERE len(parts) = loc_depth) AS exact_objects
FROM m
WHERE loc_id IS NOT NULL OR under_root
GROUP BY ALL;
