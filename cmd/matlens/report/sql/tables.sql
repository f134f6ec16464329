-- The derived tables the report reads, with their JSON-typed columns (JSON
-- is reported to Go as VARCHAR, and the JSON export nests it instead of
-- quoting it). MAP columns count as JSON: the sections write them with
-- to_json.
SELECT t.table_name,
       coalesce(list(c.column_name ORDER BY c.ordinal_position) FILTER (WHERE c.data_type = 'JSON' OR c.data_type LIKE 'MAP(%'), []) AS json_columns
FROM information_schema.tables t
JOIN information_schema.columns c USING (table_catalog, table_schema, table_name)
WHERE t.table_schema = 'main'
  AND t.table_name IN ('tier_recommendations', 'tier_savings_summary', 'asset_stats', 'alerts', 'capacity_plan', 'asset_storage', 'orphaned_objects')
GROUP BY t.table_name;
