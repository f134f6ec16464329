package tiering

import (
	"math"
	"testing"
	"time"
)

// TestRollUpPartitions: a partitioned asset's own row becomes the sum of
// its partitions, names the class their moves save most in, and drops the
// figures of a single move; unpartitioned assets and partitions are left
// as they were.
func TestRollUpPartitions(t *testing.T) {
	t.Parallel()
	recs := []Recommendation{
		{AssetKey: "p", CurrentClass: "STANDARD", RecommendedClass: "STANDARD", Action: ActionStay,
			CostNowUSDMonth: 99, BreakEvenClass: "GLACIER_IR", BreakEvenReadsPerMonth: 2, BreakEvenIdleDays: 15,
			PaybackMonths: 3, RetrievalMarginUSD: 1, Costs: []Breakdown{{Class: "STANDARD"}}},
		{AssetKey: "p", Partition: "2024-01", CurrentClass: "STANDARD", RecommendedClass: "GLACIER_IR", Action: ActionMove,
			CostNowUSDMonth: 10, CostRecommendedUSDMonth: 4, SavingsUSDMonth: 6, TransitionCostUSD: 0.5},
		{AssetKey: "p", Partition: "2024-02", CurrentClass: "STANDARD", RecommendedClass: "STANDARD_IA", Action: ActionMove,
			CostNowUSDMonth: 10, CostRecommendedUSDMonth: 7, SavingsUSDMonth: 3, TransitionCostUSD: 0.25},
		{AssetKey: "p", Partition: "2024-03", CurrentClass: "STANDARD", RecommendedClass: "STANDARD_IA", Action: ActionMove,
			CostNowUSDMonth: 10, CostRecommendedUSDMonth: 7, SavingsUSDMonth: 3, TransitionCostUSD: 0.25},
		{AssetKey: "p", Partition: "2024-04", CurrentClass: "STANDARD", RecommendedClass: "STANDARD", Action: ActionStay,
			CostNowUSDMonth: 10, CostRecommendedUSDMonth: 10},
		{AssetKey: "u", CurrentClass: "STANDARD", RecommendedClass: "GLACIER_IR", Action: ActionMove,
			CostNowUSDMonth: 5, CostRecommendedUSDMonth: 2, SavingsUSDMonth: 3, BreakEvenClass: "GLACIER_IR", BreakEvenReadsPerMonth: 1},
		{AssetKey: "q", CurrentClass: "STANDARD", RecommendedClass: "STANDARD", Action: ActionStay, CostNowUSDMonth: 8},
		{AssetKey: "q", Partition: "a", CurrentClass: "STANDARD", RecommendedClass: "STANDARD", Action: ActionStay, CostNowUSDMonth: 8, CostRecommendedUSDMonth: 8},
	}
	before := append([]Recommendation(nil), recs...)
	RollUpPartitions(recs, time.Date(2024, 6, 15, 13, 0, 0, 0, time.UTC))

	p := recs[0]
	if p.Action != ActionPerPartition || p.CostNowUSDMonth != 40 || p.CostRecommendedUSDMonth != 28 ||
		p.SavingsUSDMonth != 12 || p.SavingsUSDYear != 144 || math.Abs(p.TransitionCostUSD-1) > 1e-12 {
		t.Errorf("own row not the sum of its partitions: %+v", p)
	}
	// STANDARD_IA saves 3+3 against GLACIER_IR's 6: equal, so the first name.
	if p.RecommendedClass != "GLACIER_IR" {
		t.Errorf("recommended class %s, want GLACIER_IR", p.RecommendedClass)
	}
	if p.BreakEvenClass != "" || p.BreakEvenReadsPerMonth != 0 || p.BreakEvenIdleDays != 0 ||
		p.PaybackMonths != 0 || p.RetrievalMarginUSD != 0 || p.Costs != nil {
		t.Errorf("own row keeps a single move's figures: %+v", p)
	}
	// 2024-01 (166 days before 2024-06-15) is the youngest partition
	// going to GLACIER_IR; the two STANDARD_IA moves are other classes.
	if want := "partitions older than 166 days -> GLACIER_IR: 1 of 4 partitions (and 2 to other classes), saving $12.00/month; each partition row says why"; p.Reason != want {
		t.Errorf("reason %q, want %q", p.Reason, want)
	}
	if q := recs[6]; q.Action != ActionPerPartition || q.RecommendedClass != "STANDARD" || q.CostNowUSDMonth != 8 {
		t.Errorf("asset without moves: %+v, want per partition staying in STANDARD", q)
	}
	for _, i := range []int{1, 2, 3, 4, 5, 7} {
		if recs[i].Action != before[i].Action || recs[i].CostNowUSDMonth != before[i].CostNowUSDMonth ||
			recs[i].RecommendedClass != before[i].RecommendedClass || recs[i].BreakEvenReadsPerMonth != before[i].BreakEvenReadsPerMonth {
			t.Errorf("row %d changed: %+v, was %+v", i, recs[i], before[i])
		}
	}
}

// The own row's reason names the rule a lifecycle policy would carry when
// the partitions are time windows, and only the counts when they are not.
func TestRollUpReasonReadsAsALifecycleRule(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2024, 6, 15, 0, 30, 0, 0, time.UTC)
	move := func(asset, partition string, save float64) Recommendation {
		return Recommendation{AssetKey: asset, Partition: partition, CurrentClass: "STANDARD", RecommendedClass: "STANDARD_IA",
			Action: ActionMove, SavingsUSDMonth: save}
	}
	stay := func(asset, partition string) Recommendation {
		return Recommendation{AssetKey: asset, Partition: partition, CurrentClass: "STANDARD", RecommendedClass: "STANDARD", Action: ActionStay}
	}
	recs := []Recommendation{
		stay("hourly", ""), move("hourly", "2024-06-10-00:00", 1), move("hourly", "2024-06-12-23:00", 1), stay("hourly", "2024-06-14-05:00"),
		stay("region", ""), move("region", "eu", 2), stay("region", "us"),
		stay("mixed", ""), move("mixed", "2024-05-01", 1), move("mixed", "backfill", 1),
	}
	RollUpPartitions(recs, asOf)
	for i, want := range map[int]string{
		0: "partitions older than 3 days -> STANDARD_IA: 2 of 3 partitions, saving $2.00/month; each partition row says why",
		4: "1 of 2 partitions -> STANDARD_IA, saving $2.00/month; each partition row says why",
		7: "2 of 2 partitions -> STANDARD_IA, saving $2.00/month; each partition row says why",
	} {
		if recs[i].Reason != want {
			t.Errorf("%s: reason %q, want %q", recs[i].AssetKey, recs[i].Reason, want)
		}
	}
}
