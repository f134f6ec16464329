-- Section "savings_summary": each provider's total row ('*') first, then its
-- moves by savings.
SELECT * FROM tier_savings_summary
ORDER BY provider, current_class = '*' DESC, savings_usd_month DESC, current_class, recommended_class
