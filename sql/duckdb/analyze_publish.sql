-- Publish one analyze run (run inside one transaction): replace the current
-- derived tables and this as_of's history rows, so re-running with the same
-- as_of replaces rather than duplicates.
DELETE FROM asset_stats;
INSERT INTO asset_stats BY NAME SELECT * FROM analyze_stats;
DELETE FROM asset_stats_history WHERE as_of = getvariable('matlens_as_of');
INSERT INTO asset_stats_history BY NAME SELECT * FROM analyze_stats;
DELETE FROM alerts;
INSERT INTO alerts BY NAME SELECT * FROM analyze_alerts;
DELETE FROM alerts_history WHERE as_of = getvariable('matlens_as_of');
INSERT INTO alerts_history BY NAME SELECT * FROM analyze_alerts;
DELETE FROM capacity_plan;
INSERT INTO capacity_plan BY NAME SELECT * FROM analyze_capacity;
DELETE FROM capacity_plan_history WHERE as_of = getvariable('matlens_as_of');
INSERT INTO capacity_plan_history BY NAME SELECT * FROM analyze_capacity;
DELETE FROM asset_storage;
INSERT INTO asset_storage BY NAME SELECT * FROM analyze_asset_storage;
DELETE FROM asset_storage_history WHERE as_of = getvariable('matlens_as_of');
INSERT INTO asset_storage_history BY NAME SELECT * FROM analyze_asset_storage;
DELETE FROM orphaned_objects;
INSERT INTO orphaned_objects BY NAME SELECT * FROM analyze_orphans;
