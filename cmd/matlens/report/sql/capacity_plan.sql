-- Section "capacity_plan": in the order analyze wrote it (inventory bands,
-- then totals, and so on), which is the order the planners read in.
SELECT * FROM capacity_plan
ORDER BY rowid
