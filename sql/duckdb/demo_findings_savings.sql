-- The demo's "Biggest savings": the five assets whose moves save most a
-- month. A partitioned asset's partition moves read as the lifecycle rule
-- that makes them: "partitions older than N days -> class", N the age of
-- the youngest daily partition worth moving, with their summed savings.
WITH moves AS (
    SELECT asset_key, partition, recommended_class, savings_usd_month, reason, as_of,
           try_strptime(partition, '%Y-%m-%d') AS partition_day
    FROM tier_recommendations WHERE action = 'move'
),
per_asset AS (
    SELECT asset_key, mode(recommended_class) AS recommended_class, sum(savings_usd_month) AS savings,
           count(*) FILTER (WHERE partition IS NOT NULL) AS partitions,
           min(date_diff('day', partition_day, as_of)) AS youngest_days,
           any_value(reason) FILTER (WHERE partition IS NULL) AS own_reason
    FROM moves GROUP BY asset_key
)
SELECT asset_key, recommended_class, printf('%.2f', savings),
       CASE WHEN partitions > 0 AND youngest_days IS NOT NULL
            THEN printf('partitions older than %d days -> %s (%d partitions)', youngest_days, recommended_class, partitions)
            WHEN partitions > 0 THEN printf('%d partitions -> %s', partitions, recommended_class)
            ELSE own_reason END
FROM per_asset ORDER BY savings DESC, asset_key LIMIT 5
