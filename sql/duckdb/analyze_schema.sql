-- Derived tables written by analyze (one transaction per run), and their
-- history, keyed by as_of. Idempotent: applied by every analyze run.
-- Columns are documented in docs/analyze.md.

CREATE TABLE IF NOT EXISTS asset_stats (
    as_of                        TIMESTAMP NOT NULL,
    asset_key                    VARCHAR NOT NULL,
    -- NULL on the asset's own row (which sums its partitions)
    partition                    VARCHAR,
    materializations             BIGINT NOT NULL,
    observations                 BIGINT NOT NULL,
    successes                    BIGINT NOT NULL,
    failures                     BIGINT NOT NULL,
    retried_attempts             BIGINT NOT NULL,
    success_rate                 DOUBLE,
    exec_time_samples            BIGINT NOT NULL,
    exec_time_s_mean             DOUBLE,
    exec_time_s_stddev           DOUBLE,
    exec_time_s_p50              DOUBLE,
    exec_time_s_p95              DOUBLE,
    exec_time_s_p99              DOUBLE,
    exec_time_s_max              DOUBLE,
    exec_time_s_latest           DOUBLE,
    exec_time_s_baseline_median  DOUBLE,
    size_known                   BOOLEAN NOT NULL,
    size_samples                 BIGINT NOT NULL,
    size_bytes_latest            BIGINT,
    size_bytes_mean              DOUBLE,
    size_bytes_max               BIGINT,
    size_growth_bytes_per_day    DOUBLE,
    size_bytes_forecast_30d      DOUBLE,
    size_bytes_forecast_90d      DOUBLE,
    size_bytes_forecast_365d     DOUBLE,
    write_bytes_mean             DOUBLE,
    write_bytes_max              BIGINT,
    window_days                  DOUBLE NOT NULL,
    writes_in_window             BIGINT NOT NULL,
    reads_in_window              BIGINT NOT NULL,
    writes_per_day               DOUBLE NOT NULL,
    reads_per_day                DOUBLE NOT NULL,
    writes_per_day_life          DOUBLE NOT NULL,
    reads_per_day_life           DOUBLE NOT NULL,
    rewrites_per_month           DOUBLE NOT NULL,
    reads_per_month              DOUBLE NOT NULL,
    write_bytes_per_day          DOUBLE,
    read_bytes_per_day           DOUBLE,
    reads_total                  BIGINT NOT NULL,
    read_by_pipelines            BIGINT NOT NULL,
    compute_seconds              DOUBLE NOT NULL,
    compute_seconds_per_day      DOUBLE NOT NULL,
    first_seen                   TIMESTAMP,
    last_materialized            TIMESTAMP,
    last_read                    TIMESTAMP,
    history_days                 DOUBLE,
    shared_step                  BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS asset_stats_history AS SELECT * FROM asset_stats WITH NO DATA;

CREATE TABLE IF NOT EXISTS alerts (
    as_of      TIMESTAMP NOT NULL,
    asset_key  VARCHAR NOT NULL,
    -- exec_time_spike | low_success_rate | exec_time_regression
    kind       VARCHAR NOT NULL,
    -- warning | critical
    severity   VARCHAR NOT NULL,
    value      DOUBLE NOT NULL,
    threshold  DOUBLE NOT NULL,
    message    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS alerts_history AS SELECT * FROM alerts WITH NO DATA;

CREATE TABLE IF NOT EXISTS capacity_plan (
    as_of      TIMESTAMP NOT NULL,
    -- inventory | io_manager | memory | network | compute
    section    VARCHAR NOT NULL,
    -- NULL on totals and deployment-wide figures
    asset_key  VARCHAR,
    -- size band (inventory), provider (network cost), I/O manager (io_manager)
    category   VARCHAR,
    item       VARCHAR NOT NULL,
    value      DOUBLE,
    unit       VARCHAR NOT NULL,
    detail     VARCHAR
);

CREATE TABLE IF NOT EXISTS capacity_plan_history AS SELECT * FROM capacity_plan WITH NO DATA;

-- Where each asset's bytes are, measured from the loaded object snapshots
-- (storage_objects) at the location its latest materialization records.
CREATE TABLE IF NOT EXISTS asset_storage (
    as_of               TIMESTAMP NOT NULL,
    asset_key           VARCHAR NOT NULL,
    -- NULL on the asset's own row (which sums its distinct locations)
    partition           VARCHAR,
    location            VARCHAR,
    provider            VARCHAR,
    bucket              VARCHAR,
    -- current objects: the latest version of each, delete markers excluded
    bytes               BIGINT NOT NULL,
    objects             BIGINT NOT NULL,
    noncurrent_bytes    BIGINT NOT NULL,
    noncurrent_objects  BIGINT NOT NULL,
    delete_markers      BIGINT NOT NULL,
    bytes_by_class      MAP(VARCHAR, BIGINT),
    -- the class holding most of the current bytes
    storage_class       VARCHAR,
    last_modified       TIMESTAMP,
    -- exact (one object at the location) | prefix (objects below it) |
    -- none (the bucket is loaded but nothing is there)
    matched_by          VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS asset_storage_history AS SELECT * FROM asset_storage WITH NO DATA;

-- Objects no asset's current location takes, under the prefixes Dagster
-- writes to, and the noncurrent versions and delete markers under live
-- ones. recommend prices them (cost, action, savings).
CREATE TABLE IF NOT EXISTS orphaned_objects (
    as_of               TIMESTAMP NOT NULL,
    prefix              VARCHAR NOT NULL,
    provider            VARCHAR NOT NULL,
    bucket              VARCHAR NOT NULL,
    -- no current materialization | noncurrent version | delete marker
    reason              VARCHAR NOT NULL,
    storage_class       VARCHAR NOT NULL,
    objects             BIGINT NOT NULL,
    bytes               BIGINT NOT NULL,
    newest_modified     TIMESTAMP,
    cost_usd_month      DOUBLE,
    -- delete | archive, with what it saves a month
    action              VARCHAR,
    savings_usd_month   DOUBLE
);

-- Where asset_stats' size came from: object store (measured, see
-- asset_storage) | metadata (the size the materialization recorded) | NULL.
ALTER TABLE asset_stats ADD COLUMN IF NOT EXISTS size_source VARCHAR;
ALTER TABLE asset_stats_history ADD COLUMN IF NOT EXISTS size_source VARCHAR;
