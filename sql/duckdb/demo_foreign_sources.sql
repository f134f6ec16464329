-- Sources other than the demo's ($1) that loaded into the file.
SELECT count(*) FROM ingest_state WHERE source <> $1
