-- Drop analyze's temp tables (they live on the connection otherwise).
DROP TABLE IF EXISTS analyze_capacity;
DROP TABLE IF EXISTS analyze_alerts;
DROP TABLE IF EXISTS analyze_stats;
DROP TABLE IF EXISTS analyze_gonum;
DROP TABLE IF EXISTS analyze_base;
DROP TABLE IF EXISTS analyze_events;
DROP TABLE IF EXISTS analyze_keys;
DROP TABLE IF EXISTS analyze_reads;
DROP TABLE IF EXISTS analyze_steps;
DROP TABLE IF EXISTS analyze_params;
RESET VARIABLE matlens_as_of;
RESET VARIABLE matlens_window_days;
RESET VARIABLE matlens_window_start;
