-- Which assets write the most data? Materializations, total and latest
-- size per asset (sizes NULL when the asset records none).
SELECT asset_key,
       count(*)                                        AS materializations,
       count(DISTINCT partition)                       AS partitions,
       arg_max(size_bytes, ts)                         AS latest_size_bytes,
       sum(size_bytes)                                 AS bytes_written,
       count(*) FILTER (WHERE size_bytes IS NULL)      AS without_size,
       max(ts)                                         AS last_materialized
FROM materializations
GROUP BY asset_key
ORDER BY bytes_written DESC NULLS LAST, materializations DESC;
