-- What the report has to work with: the tables analyze and recommend fill
-- (a file that was only ingested lacks some of them), their as_of and row
-- counts. Run only after tables.sql found every table.
SELECT
    (SELECT max(as_of) FROM asset_stats)                         AS as_of,
    (SELECT count(*) FROM asset_stats WHERE partition IS NULL)   AS assets,
    (SELECT count(partition) FROM asset_stats)                   AS partitions,
    (SELECT count(*) FROM tier_recommendations)                  AS recommendations,
    -- a partitioned asset's own row sums its partitions' moves: not a move itself
    (SELECT count(*) FROM (
        SELECT action, partition, count(partition) OVER (PARTITION BY provider, asset_key) AS partitions
        FROM tier_recommendations)
     WHERE action = 'move' AND (partition IS NOT NULL OR partitions = 0)) AS moves,
    (SELECT count(*) FROM alerts)                                AS alerts,
    (SELECT count(*) FROM alerts WHERE severity = 'critical')    AS critical_alerts,
    (SELECT count(*) FROM capacity_plan)                         AS capacity_rows,
    (SELECT count(*) FROM tier_savings_summary)                  AS summary_rows;
