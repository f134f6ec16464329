-- The tables of a file the demo is about to replace.
SELECT table_name FROM duckdb_tables()
