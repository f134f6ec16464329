-- Section "asset_storage": what the object stores hold at each asset's (and
-- partition's) location, biggest first. The bytes-per-class map is written
-- as JSON, which every export format can carry.
SELECT * REPLACE (to_json(bytes_by_class) AS bytes_by_class)
FROM asset_storage
ORDER BY bytes DESC, asset_key, partition NULLS FIRST
