-- The last ingest runs and anything quarantined: what a nightly check reads.
SELECT ingest_run_id, source, started_at, finished_at, status,
       rows_read, rows_loaded, rows_rejected, watermark_before, watermark_after
FROM ingest_runs
ORDER BY ingest_run_id DESC
LIMIT 10;
