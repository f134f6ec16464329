package tiering

import "fmt"

// RollUpPartitions turns the own row (Partition "") of each asset that has
// partition rows in recs into the sum of those rows, with action
// ActionPerPartition. Partitions are the objects a lifecycle rule moves,
// and pricing the whole footprint as one object would recommend a second,
// conflicting move for the same bytes. The own row's recommended class is
// the one its partitions' moves save most in (equal savings go to the
// alphabetically first class), or its current class when none moves; it
// carries no break-even figures, no payback and no per-class costs, since
// no single move is made for it.
func RollUpPartitions(recs []Recommendation) {
	type agg struct {
		now, after, save, transition float64
		moves, total                 int
		savingsTo                    map[string]float64
	}
	parts := map[string]*agg{}
	for _, r := range recs {
		if r.Partition == "" {
			continue
		}
		a := parts[r.AssetKey]
		if a == nil {
			a = &agg{savingsTo: map[string]float64{}}
			parts[r.AssetKey] = a
		}
		a.total++
		a.now += r.CostNowUSDMonth
		a.after += r.CostRecommendedUSDMonth
		a.save += r.SavingsUSDMonth
		a.transition += r.TransitionCostUSD
		if r.Action == ActionMove {
			a.moves++
			a.savingsTo[r.RecommendedClass] += r.SavingsUSDMonth
		}
	}
	for i := range recs {
		r := &recs[i]
		a := parts[r.AssetKey]
		if r.Partition != "" || a == nil {
			continue
		}
		r.Action = ActionPerPartition
		r.CostNowUSDMonth, r.CostRecommendedUSDMonth = a.now, a.after
		r.SavingsUSDMonth, r.SavingsUSDYear = a.save, 12*a.save
		r.TransitionCostUSD = a.transition
		r.RecommendedClass = r.CurrentClass
		best := 0.0
		for class, v := range a.savingsTo {
			if v > best || (v == best && class < r.RecommendedClass) {
				best, r.RecommendedClass = v, class
			}
		}
		r.BreakEvenClass, r.BreakEvenReadsPerMonth, r.BreakEvenIdleDays = "", 0, 0
		r.RetrievalMarginUSD, r.PaybackMonths, r.Costs = 0, 0, nil
		r.Reason = fmt.Sprintf("sum of %d partition rows: %d move (most savings to %s), %d do not; each partition row says why",
			a.total, a.moves, r.RecommendedClass, a.total-a.moves)
	}
}
