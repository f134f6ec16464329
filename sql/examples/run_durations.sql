-- Run outcomes and wall-clock duration per job.
SELECT job_name,
       count(*)                                          AS runs,
       count(*) FILTER (WHERE status = 'failure')        AS failed,
       round(avg(date_diff('millisecond', started_at, finished_at)) / 1000, 1) AS avg_seconds,
       max(finished_at)                                  AS last_finished
FROM runs
GROUP BY job_name
ORDER BY runs DESC;
