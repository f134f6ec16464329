package tiering

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randomOptions(rng *rand.Rand, pr *Provider, provider string) Options {
	o := DefaultOptions()
	o.Provider = provider
	o.PaybackMonths = []float64{1, 3, 12, 36}[rng.IntN(4)]
	o.AllowArchiveForRead = rng.IntN(4) == 0
	names := pr.ClassNames()
	o.CurrentClass = names[0]
	if rng.IntN(3) == 0 {
		o.CurrentClass = names[rng.IntN(len(names))]
	}
	return o
}

// TestRecommendProperties: over random usages and options, savings are
// never negative, the recommended class never costs more than the current
// one, and a move always recovers its one-time cost plus one retrieval
// within the payback horizon.
func TestRecommendProperties(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	rng := rand.New(rand.NewPCG(2, 2))
	for range 500 {
		u := randomUsage(rng)
		for _, pn := range []string{"aws", "gcp", "azure"} {
			o := randomOptions(rng, sheet.Providers[pn], pn)
			r, err := Recommend(sheet, u, o)
			if err != nil {
				t.Fatal(err)
			}
			if r.SavingsUSDMonth < 0 || r.SavingsUSDYear < 0 {
				t.Fatalf("negative savings: %+v", r)
			}
			if r.CostRecommendedUSDMonth > r.CostNowUSDMonth {
				t.Fatalf("recommended costs more: %+v", r)
			}
			if r.Action == ActionMove {
				if r.TransitionCostUSD+r.RetrievalMarginUSD > r.SavingsUSDMonth*o.PaybackMonths*(1+1e-12) {
					t.Fatalf("move does not pay back: %+v", r)
				}
				if c := sheet.Providers[pn].Classes[r.RecommendedClass]; c.NeedsRestore && u.ReadByPipelines && !o.AllowArchiveForRead {
					t.Fatalf("restore class for a pipeline-read asset: %+v", r)
				}
			} else if r.SavingsUSDMonth != 0 || r.RecommendedClass != r.CurrentClass {
				t.Fatalf("no move but savings or class change: %+v", r)
			}
			if math.IsNaN(r.BreakEvenReadsPerMonth) || r.BreakEvenReadsPerMonth < 0 || math.IsNaN(r.BreakEvenIdleDays) {
				t.Fatalf("bad break-even: %+v", r)
			}
		}
	}
}

// priceFields lists every price of a class the cost model reads, so the
// monotonicity test can raise each in turn.
func priceFields(c *Class) []*float64 {
	ps := []*float64{
		&c.StorageUSDPerGBMonth, &c.RetrievalUSDPerGB, &c.WriteUSDPer1k, &c.ReadUSDPer1k,
		&c.RestoreRequestUSDPer1k, &c.TransitionInUSDPer1k, &c.MonitoringUSDPer1kObjectsMonth,
	}
	for i := range c.Tiers {
		ps = append(ps, &c.Tiers[i].USDPerGBMonth)
	}
	return ps
}

// TestRaisingAPriceNeverAttracts: raising any one price of a class never
// makes that class newly recommended. The current class is excluded: its
// prices also set the cost of leaving it. Objects of at least 8 KiB keep
// the default class's price from entering a Glacier-resident asset's cost
// more than its own.
func TestRaisingAPriceNeverAttracts(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	base := mustSheet(t)
	for range 150 {
		u := randomUsage(rng)
		if u.SizeBytes/math.Max(1, u.Objects) < 8192 {
			u.Objects = math.Max(1, math.Floor(u.SizeBytes/8192))
		}
		for _, pn := range []string{"aws", "gcp", "azure"} {
			o := randomOptions(rng, base.Providers[pn], pn)
			before, err := Recommend(base, u, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, cn := range base.Providers[pn].ClassNames() {
				if cn == before.CurrentClass || cn == before.RecommendedClass {
					continue
				}
				for fi := range len(priceFields(base.Providers[pn].Classes[cn])) {
					sheet := cloneSheet(base)
					p := priceFields(sheet.Providers[pn].Classes[cn])[fi]
					*p = *p*(1+rng.Float64()) + 0.001*rng.Float64()
					after, err := Recommend(sheet, u, o)
					if err != nil {
						t.Fatal(err)
					}
					if after.RecommendedClass == cn {
						t.Fatalf("raising %s field %d made it recommended: %+v\nbefore: %+v", cn, fi, after, before)
					}
				}
			}
		}
	}
}

// cloneSheet deep-copies the parts of a sheet a test mutates; decoding the
// YAML again for every variation would dominate the test's run time.
func cloneSheet(s *PriceSheet) *PriceSheet {
	out := *s
	out.Providers = map[string]*Provider{}
	for pn, pr := range s.Providers {
		cp := *pr
		cp.Classes = map[string]*Class{}
		for cn, c := range pr.Classes {
			cc := *c
			cc.Tiers = append([]ManagedTier(nil), c.Tiers...)
			cp.Classes[cn] = &cc
		}
		out.Providers[pn] = &cp
	}
	return &out
}
