-- matlens DuckDB schema: fact tables written by ingest, bookkeeping, derived
-- tables written by later stages. Idempotent: run at every open.
-- Timestamps are UTC. asset_key is the asset path joined by '/'.
--
-- Fact tables are unique on event_id, enforced by the loader (an anti-join
-- on the batch's id range), not by a PRIMARY KEY: DuckDB rewrites every ART
-- index in full at each checkpoint, which made commits grow with the table.

CREATE TABLE IF NOT EXISTS materializations (
    event_id          BIGINT NOT NULL,
    run_id            VARCHAR,
    job_name          VARCHAR,
    step_key          VARCHAR,
    asset_key         VARCHAR NOT NULL,
    asset_path        VARCHAR[] NOT NULL,
    partition         VARCHAR,
    ts                TIMESTAMP NOT NULL,
    size_bytes        BIGINT,
    row_count         BIGINT,
    execution_time_s  DOUBLE,
    memory_delta_mb   DOUBLE,
    uri               VARCHAR,
    code_version      VARCHAR,
    data_version      VARCHAR,
    event_type        VARCHAR NOT NULL,
    metadata          JSON
);

CREATE TABLE IF NOT EXISTS observations (
    event_id          BIGINT NOT NULL,
    run_id            VARCHAR,
    job_name          VARCHAR,
    step_key          VARCHAR,
    asset_key         VARCHAR NOT NULL,
    asset_path        VARCHAR[] NOT NULL,
    partition         VARCHAR,
    ts                TIMESTAMP NOT NULL,
    size_bytes        BIGINT,
    row_count         BIGINT,
    execution_time_s  DOUBLE,
    memory_delta_mb   DOUBLE,
    uri               VARCHAR,
    code_version      VARCHAR,
    data_version      VARCHAR,
    event_type        VARCHAR NOT NULL,
    metadata          JSON
);

CREATE TABLE IF NOT EXISTS materialization_planned (
    event_id    BIGINT NOT NULL,
    run_id      VARCHAR,
    job_name    VARCHAR,
    step_key    VARCHAR,
    asset_key   VARCHAR NOT NULL,
    asset_path  VARCHAR[] NOT NULL,
    partition   VARCHAR,
    ts          TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS handled_outputs (
    event_id     BIGINT NOT NULL,
    run_id       VARCHAR,
    job_name     VARCHAR,
    step_key     VARCHAR,
    ts           TIMESTAMP NOT NULL,
    output_name  VARCHAR,
    manager_key  VARCHAR,
    event_type   VARCHAR NOT NULL,
    metadata     JSON,
    -- The asset this output stored, resolved from the materializations of
    -- the same run and step; NULL when the output is not an asset.
    asset_key    VARCHAR
);

CREATE TABLE IF NOT EXISTS asset_reads (
    event_id              BIGINT NOT NULL,
    run_id                VARCHAR,
    job_name              VARCHAR,
    step_key              VARCHAR,
    ts                    TIMESTAMP NOT NULL,
    input_name            VARCHAR,
    upstream_step_key     VARCHAR,
    upstream_output_name  VARCHAR,
    manager_key           VARCHAR,
    event_type            VARCHAR NOT NULL,
    asset_key             VARCHAR,
    -- same_run | cross_run | unresolved
    resolution            VARCHAR NOT NULL DEFAULT 'unresolved'
);

CREATE TABLE IF NOT EXISTS step_events (
    event_id       BIGINT NOT NULL,
    run_id         VARCHAR,
    job_name       VARCHAR,
    step_key       VARCHAR,
    ts             TIMESTAMP NOT NULL,
    event_type     VARCHAR NOT NULL,
    duration_ms    DOUBLE,
    error_class    VARCHAR,
    error_message  VARCHAR
);

CREATE TABLE IF NOT EXISTS run_events (
    event_id    BIGINT NOT NULL,
    run_id      VARCHAR,
    job_name    VARCHAR,
    ts          TIMESTAMP NOT NULL,
    event_type  VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS step_executions (
    run_id       VARCHAR NOT NULL,
    job_name     VARCHAR,
    step_key     VARCHAR NOT NULL,
    attempt      INTEGER NOT NULL,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP,
    duration_ms  DOUBLE,
    -- success | failure | retried | skipped | unfinished
    status       VARCHAR NOT NULL,
    asset_keys   VARCHAR[] NOT NULL,
    shared_step  BOOLEAN NOT NULL,
    -- The partition the step worked on: the smallest partition its
    -- materializations or planned materializations in the run name (Dagster
    -- runs one partition per run); NULL when none does.
    partition    VARCHAR
    -- Unique on (run_id, step_key, attempt) by construction. No PRIMARY KEY:
    -- rows are rebuilt with DELETE + INSERT in one transaction, which DuckDB's
    -- eager unique-constraint check rejects for the same key.
);
-- Files written before the column existed get it here and are filled by
-- derive_upgrade.sql.
ALTER TABLE step_executions ADD COLUMN IF NOT EXISTS partition VARCHAR;

-- The execution time of each materialization that has no
-- execution_time_s metadata, taken from its step: the longest successful
-- attempt of its step in its run. Rebuilt with step_executions for the runs
-- a batch touches, so analyze joins it on event_id instead of joining
-- every materialization with every step execution on (run_id, step_key)
-- strings at every run (1.1 s -> 0.55 s of analyze at 10,000 assets).
CREATE TABLE IF NOT EXISTS materialization_exec (
    event_id  BIGINT NOT NULL,
    run_id    VARCHAR NOT NULL,
    exec_s    DOUBLE
);

-- Unique on run_id by construction (no PRIMARY KEY, as for step_executions).
CREATE TABLE IF NOT EXISTS runs (
    run_id       VARCHAR NOT NULL,
    job_name     VARCHAR,
    -- success | failure | canceled | started | starting
    status       VARCHAR NOT NULL,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP
);

-- Loader bookkeeping. run_spans: the lowest event id loaded for each run, so
-- each batch's derivations scan only the id range of the runs it touches
-- (DuckDB skips row groups below it by their min/max) instead of whole
-- tables. output_producers: the latest resolved producer (HANDLED_OUTPUT with
-- an asset) of each step output, for resolving reads across runs without
-- grouping every handled output at every batch.
CREATE TABLE IF NOT EXISTS run_spans (
    run_id          VARCHAR NOT NULL,
    first_event_id  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS output_producers (
    step_key     VARCHAR NOT NULL,
    output_name  VARCHAR NOT NULL,
    event_id     BIGINT NOT NULL,
    asset_key    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ingest_state (
    source      VARCHAR PRIMARY KEY,
    watermark   BIGINT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
-- The lowest id of loaded rows whose derived rows (step executions, runs,
-- resolved outputs and reads) are not yet rebuilt; NULL when none are. The
-- loader derives every few batches, and a run that stopped in between
-- leaves it for the next.
ALTER TABLE ingest_state ADD COLUMN IF NOT EXISTS derive_from BIGINT;

CREATE SEQUENCE IF NOT EXISTS ingest_runs_seq;

CREATE TABLE IF NOT EXISTS ingest_runs (
    ingest_run_id     BIGINT PRIMARY KEY DEFAULT nextval('ingest_runs_seq'),
    source            VARCHAR NOT NULL,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    rows_read         BIGINT NOT NULL DEFAULT 0,
    rows_loaded       BIGINT NOT NULL DEFAULT 0,
    rows_rejected     BIGINT NOT NULL DEFAULT 0,
    rows_skipped      BIGINT NOT NULL DEFAULT 0,
    batches           BIGINT NOT NULL DEFAULT 0,
    watermark_before  BIGINT,
    watermark_after   BIGINT,
    -- running | success | interrupted | failed
    status            VARCHAR NOT NULL,
    error             VARCHAR,
    -- Which derivations the loader of this run kept up to date (see
    -- DeriveVersion in ingest/store.go); NULL: an earlier matlens, whose
    -- runs leave step_executions.partition, materialization_exec and
    -- run_spans behind, so the next open rebuilds them; 0: rebuilt so.
    derive_version    INTEGER
);
ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS derive_version INTEGER;

CREATE TABLE IF NOT EXISTS rejected_events (
    -- source and event id (or file line when the id itself is unreadable).
    reject_key   VARCHAR PRIMARY KEY,
    source       VARCHAR NOT NULL,
    event_id     BIGINT,
    line         BIGINT,
    event_type   VARCHAR,
    reason       VARCHAR NOT NULL,
    excerpt      VARCHAR NOT NULL,
    rejected_at  TIMESTAMP NOT NULL
);

-- Object-store snapshots (ingest/objects): one row per object, noncurrent
-- version or delete marker a source reported. Each source's rows are
-- replaced in one transaction by its next load.
CREATE TABLE IF NOT EXISTS storage_objects (
    -- the source's identity: kind and location, credentials removed
    source            VARCHAR NOT NULL,
    -- aws | gcp | azure | local
    provider          VARCHAR NOT NULL,
    -- bucket or container; '' for local files
    bucket            VARCHAR NOT NULL,
    -- decoded object name; a local file's absolute path
    key               VARCHAR NOT NULL,
    -- version id / generation; NULL where the source has no versions
    version           VARCHAR,
    size_bytes        BIGINT NOT NULL,
    -- the provider's class as reported; NULL when the source does not say
    storage_class     VARCHAR,
    -- S3 Intelligent-Tiering access tier; NULL otherwise
    access_tier       VARCHAR,
    last_modified     TIMESTAMP,
    is_latest         BOOLEAN NOT NULL,
    is_delete_marker  BOOLEAN NOT NULL,
    snapshot_at       TIMESTAMP NOT NULL
);

-- The last successful load of each object source.
CREATE TABLE IF NOT EXISTS storage_sources (
    source          VARCHAR PRIMARY KEY,
    kind            VARCHAR NOT NULL,
    provider        VARCHAR NOT NULL,
    snapshot_at     TIMESTAMP NOT NULL,
    loaded_at       TIMESTAMP NOT NULL,
    files           INTEGER NOT NULL,
    objects         BIGINT NOT NULL,
    bytes           BIGINT NOT NULL,
    noncurrent      BIGINT NOT NULL,
    delete_markers  BIGINT NOT NULL
);
