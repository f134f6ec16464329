-- Section "recommendations": every current row of tier_recommendations,
-- biggest savings first.
SELECT * FROM tier_recommendations
ORDER BY savings_usd_month DESC, asset_key, partition NULLS FIRST
