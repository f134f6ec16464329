package tiering

import (
	"fmt"
	"time"
)

// RollUpPartitions turns the own row (Partition "") of each asset that has
// partition rows in recs into the sum of those rows, with action
// ActionPerPartition. Partitions are the objects a lifecycle rule moves,
// and pricing the whole footprint as one object would recommend a second,
// conflicting move for the same bytes. The own row's recommended class is
// the one its partitions' moves save most in (equal savings go to the
// alphabetically first class), or its current class when none moves; it
// carries no break-even figures, no payback and no per-class costs, since
// no single move is made for it.
//
// Its reason reads as the lifecycle rule that makes the moves: for dated
// partitions (daily, hourly or monthly keys), "partitions older than N days
// -> class", N the age at asOf of the youngest partition that moves to that
// class, which is where moving starts to pay given the partitions' own
// reads and rewrites.
func RollUpPartitions(recs []Recommendation, asOf time.Time) {
	type agg struct {
		now, after, save, transition float64
		moves, total                 int
		savingsTo                    map[string]float64
		movesTo                      map[string]int
		youngestTo                   map[string]int // days; absent when a partition key is no date
		undated                      map[string]bool
	}
	today := asOf.UTC().Truncate(24 * time.Hour)
	parts := map[string]*agg{}
	for _, r := range recs {
		if r.Partition == "" {
			continue
		}
		a := parts[r.AssetKey]
		if a == nil {
			a = &agg{savingsTo: map[string]float64{}, movesTo: map[string]int{}, youngestTo: map[string]int{}, undated: map[string]bool{}}
			parts[r.AssetKey] = a
		}
		a.total++
		a.now += r.CostNowUSDMonth
		a.after += r.CostRecommendedUSDMonth
		a.save += r.SavingsUSDMonth
		a.transition += r.TransitionCostUSD
		if r.Action != ActionMove {
			continue
		}
		a.moves++
		to := r.RecommendedClass
		a.savingsTo[to] += r.SavingsUSDMonth
		a.movesTo[to]++
		day, ok := partitionStart(r.Partition)
		if !ok {
			a.undated[to] = true
			continue
		}
		age := int(today.Sub(day.Truncate(24*time.Hour)).Hours() / 24)
		if y, seen := a.youngestTo[to]; !seen || age < y {
			a.youngestTo[to] = age
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
		to := r.RecommendedClass
		others := ""
		if k := a.moves - a.movesTo[to]; k > 0 {
			others = fmt.Sprintf(" (and %d to other classes)", k)
		}
		switch youngest, dated := a.youngestTo[to]; {
		case a.moves == 0:
			r.Reason = fmt.Sprintf("sum of %d partition rows: none moves; each partition row says why", a.total)
		case dated && !a.undated[to]:
			r.Reason = fmt.Sprintf("partitions older than %d days -> %s: %d of %d partitions%s, saving %s/month; each partition row says why",
				youngest, to, a.movesTo[to], a.total, others, usd(a.save))
		default:
			r.Reason = fmt.Sprintf("%d of %d partitions -> %s%s, saving %s/month; each partition row says why",
				a.movesTo[to], a.total, to, others, usd(a.save))
		}
	}
}

// partitionLayouts are the keys of Dagster's time-window partitions:
// daily and weekly, hourly, monthly.
var partitionLayouts = []string{"2006-01-02", "2006-01-02-15:04", "2006-01"}

// partitionStart is the start of a time-window partition's key.
func partitionStart(key string) (time.Time, bool) {
	for _, l := range partitionLayouts {
		if t, err := time.Parse(l, key); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
