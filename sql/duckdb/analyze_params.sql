-- The run's parameters, $1 as_of and $2 the window length in days, typed
-- and derived (window_start) once in a one-row temp table:
-- analyze_variables.sql copies them into the session variables the other
-- analyze queries read. (Parameters bind only to a single statement.)
CREATE OR REPLACE TEMP TABLE analyze_params AS
SELECT CAST($1 AS TIMESTAMP) AS as_of,
       CAST($2 AS DOUBLE) AS window_days,
       CAST($1 AS TIMESTAMP) - to_microseconds(CAST($2 * 86400e6 AS BIGINT)) AS window_start;
