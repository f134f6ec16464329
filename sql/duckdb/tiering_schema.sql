-- Storage-class recommendations written by the recommend stage (one
-- transaction per run) and their history keyed by as_of. Documented in
-- docs/schema.md and docs/tiering.md.

CREATE TABLE IF NOT EXISTS tier_recommendations (
    as_of                            TIMESTAMP NOT NULL,
    asset_key                        VARCHAR NOT NULL,
    -- NULL on the asset's own row; partitions of partitioned assets get rows of their own
    partition                        VARCHAR,
    provider                         VARCHAR NOT NULL,
    region                           VARCHAR,
    current_class                    VARCHAR NOT NULL,
    recommended_class                VARCHAR NOT NULL,
    -- move | stay | insufficient history | size unknown
    action                           VARCHAR NOT NULL,
    -- the guide's label: hot | warm | cold
    access_category                  VARCHAR NOT NULL,
    -- the class the guide's naive mapping picks, and what it would really cost
    guide_tier                       VARCHAR NOT NULL,
    guide_cost_usd_month             DOUBLE,
    guide_claimed_savings_usd_month  DOUBLE,
    size_gb                          DOUBLE,
    objects                          DOUBLE,
    reads_per_month                  DOUBLE,
    rewrites_per_month               DOUBLE,
    history_days                     DOUBLE,
    cost_now_usd_month               DOUBLE,
    cost_recommended_usd_month       DOUBLE,
    savings_usd_month                DOUBLE NOT NULL,
    savings_usd_year                 DOUBLE NOT NULL,
    break_even_class                 VARCHAR,
    break_even_reads_per_month       DOUBLE,
    break_even_idle_days             DOUBLE,
    transition_cost_usd              DOUBLE,
    retrieval_margin_usd             DOUBLE,
    payback_months                   DOUBLE,
    reason                           VARCHAR NOT NULL,
    -- every candidate class's monthly cost breakdown
    costs                            JSON
);

CREATE TABLE IF NOT EXISTS tier_recommendations_history AS SELECT * FROM tier_recommendations WITH NO DATA;

CREATE TABLE IF NOT EXISTS tier_savings_summary (
    as_of                 TIMESTAMP NOT NULL,
    provider              VARCHAR NOT NULL,
    -- '*' on a provider's total row
    current_class         VARCHAR NOT NULL,
    recommended_class     VARCHAR NOT NULL,
    assets                BIGINT NOT NULL,
    objects_rows          BIGINT NOT NULL,
    size_gb               DOUBLE NOT NULL,
    cost_now_usd_month    DOUBLE NOT NULL,
    cost_after_usd_month  DOUBLE NOT NULL,
    savings_usd_month     DOUBLE NOT NULL,
    savings_usd_year      DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS tier_savings_summary_history AS SELECT * FROM tier_savings_summary WITH NO DATA;

-- Where size_gb came from: object store | metadata | NULL (see asset_stats).
ALTER TABLE tier_recommendations ADD COLUMN IF NOT EXISTS size_source VARCHAR;
ALTER TABLE tier_recommendations_history ADD COLUMN IF NOT EXISTS size_source VARCHAR;
