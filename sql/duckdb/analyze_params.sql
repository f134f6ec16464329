-- The run's parameters, as a one-row temp table (kept for the rows that
-- carry as_of): $1 as_of, $2 window length in days. analyze_variables.sql
-- then copies them into session variables, which is how the other analyze
-- queries read them.
CREATE OR REPLACE TEMP TABLE analyze_params AS
SELECT CAST($1 AS TIMESTAMP) AS as_of,
       CAST($2 AS DOUBLE) AS window_days,
       CAST($1 AS TIMESTAMP) - to_microseconds(CAST($2 * 86400e6 AS BIGINT)) AS window_start;
