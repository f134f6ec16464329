-- The demo's "Where the guide's naive tiering would lose money": tiers the
-- guide claims save money that would cost more than the current class.
SELECT asset_key || coalesce(' [' || partition || ']', ''), guide_tier, printf('%.2f', guide_claimed_savings_usd_month),
       printf('%.2f', guide_cost_usd_month - cost_now_usd_month)
FROM tier_recommendations
WHERE guide_tier <> current_class AND action <> 'size unknown' AND guide_cost_usd_month > cost_now_usd_month AND guide_claimed_savings_usd_month > 0
ORDER BY guide_cost_usd_month - cost_now_usd_month DESC LIMIT 3
