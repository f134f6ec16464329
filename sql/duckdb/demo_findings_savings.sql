-- The demo's "Biggest savings": the five moves that save most a month.
SELECT asset_key || coalesce(' [' || partition || ']', ''), recommended_class, printf('%.2f', savings_usd_month), reason
FROM tier_recommendations WHERE action = 'move' ORDER BY savings_usd_month DESC LIMIT 5
