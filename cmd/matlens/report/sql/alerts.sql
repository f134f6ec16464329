-- Section "alerts": critical first.
SELECT * FROM alerts
ORDER BY severity = 'critical' DESC, asset_key, kind
