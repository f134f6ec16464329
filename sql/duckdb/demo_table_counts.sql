-- What the demo's load produced: one row, one column per figure, each
-- column named by the label the demo prints, in printing order.
SELECT
    (SELECT count(*) FROM materializations)                                       AS "materializations",
    (SELECT count(DISTINCT asset_key) FROM materializations)                      AS "assets",
    (SELECT count(*) FROM materializations WHERE size_bytes IS NULL)              AS "materializations without a size",
    (SELECT count(*) FROM observations)                                           AS "observations",
    (SELECT count(*) FROM asset_reads)                                            AS "asset reads",
    (SELECT count(*) FROM asset_reads WHERE resolution = 'unresolved')            AS "asset reads unresolved",
    (SELECT count(*) FROM step_executions)                                        AS "step executions",
    (SELECT count(*) FROM step_executions WHERE status = 'failure')               AS "step executions failed",
    (SELECT count(*) FROM step_executions WHERE status = 'retried')               AS "step executions retried",
    (SELECT count(*) FROM step_executions WHERE shared_step)                      AS "shared (multi-asset) step executions",
    (SELECT count(*) FROM runs)                                                   AS "runs",
    (SELECT count(*) FROM rejected_events)                                        AS "rejected events"
