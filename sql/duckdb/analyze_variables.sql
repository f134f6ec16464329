-- The parameters as session variables. DuckDB folds getvariable() into a
-- constant when it binds a query, so `ts <= getvariable(...)` is pushed into
-- the table scan (row groups outside it are skipped) and no plan has to
-- cross join a one-row table: DuckDB 1.1 may build the big side of such a
-- cross product, materializing millions of rows (0.5-0.9 s per query at
-- 2M materializations).
SET VARIABLE matlens_as_of = (SELECT as_of FROM analyze_params);
SET VARIABLE matlens_window_days = (SELECT window_days FROM analyze_params);
SET VARIABLE matlens_window_start = (SELECT window_start FROM analyze_params);
