-- The demo's "Alerts": critical ones first.
SELECT severity, asset_key, message FROM alerts ORDER BY severity = 'critical' DESC, asset_key LIMIT 6
