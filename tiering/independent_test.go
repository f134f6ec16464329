package tiering

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomUsage draws usages across the ranges Dagster assets show: tiny to
// multi-TB, one to a million objects, never to hourly reads and rewrites,
// with and without retention.
func randomUsage(rng *rand.Rand) Usage {
	pick := func(vs ...float64) float64 { return vs[rng.IntN(len(vs))] }
	u := Usage{
		AssetKey:         "asset",
		SizeBytes:        math.Exp(rng.Float64()*math.Log(1e13/1e3)) * 1e3,    // 1 kB .. 10 TB
		Objects:          math.Round(math.Exp(rng.Float64() * math.Log(1e6))), // 1 .. 1e6
		ReadsPerMonth:    pick(0, 0, 0.1, 0.5, 1, 3, 30, 720) * (0.5 + rng.Float64()),
		RewritesPerMonth: pick(0, 0, 0, 0.25, 1, 4, 30, 720) * (0.5 + rng.Float64()),
		LifetimeMonths:   pick(0, 0, 0, 0.5, 2, 6, 24),
		HistoryDays:      pick(5, 30, 60, 400) * (0.5 + rng.Float64()),
		ReadByPipelines:  rng.IntN(2) == 0,
	}
	return u
}

// TestCostMatchesIndependentFormula re-derives every class's monthly cost
// in straight-line arithmetic from the formula of docs/tiering.md (reference
// §D.2), without any of the package's helpers, and demands agreement to the
// cent on a few hundred seeded random usages.
func TestCostMatchesIndependentFormula(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	rng := rand.New(rand.NewPCG(1, 1))
	checked := 0
	for range 300 {
		u := randomUsage(rng)
		for _, pn := range []string{"aws", "gcp", "azure"} {
			pr := sheet.Providers[pn]
			for cn, c := range pr.Classes {
				got, err := CostPerMonth(sheet, pn, cn, u)
				if err != nil {
					t.Fatal(err)
				}

				// --- independent computation ---
				n := u.Objects
				if n < 1 {
					n = 1
				}
				objBytes := u.SizeBytes / n
				gb := pr.BytesPerGB
				// w and L in months; min(w, L), infinite when neither.
				life := math.Inf(1)
				if u.RewritesPerMonth > 0 {
					life = 1 / u.RewritesPerMonth
				}
				if u.LifetimeMonths > 0 && u.LifetimeMonths < life {
					life = u.LifetimeMonths
				}
				// Storage price: managed classes average their tiers over
				// the interval between touches.
				s := c.StorageUSDPerGBMonth
				if c.Managed {
					s = c.Tiers[0].USDPerGBMonth
					if objBytes >= c.MonitoringMinObjectBytes {
						touchMonths := life
						if u.ReadsPerMonth > 0 && 1/u.ReadsPerMonth < touchMonths {
							touchMonths = 1 / u.ReadsPerMonth
						}
						if math.IsInf(touchMonths, 1) {
							s = c.Tiers[len(c.Tiers)-1].USDPerGBMonth
						} else {
							d := touchMonths * 30
							acc := 0.0
							for i := range c.Tiers {
								start := c.Tiers[i].AfterIdleDays
								end := math.Inf(1)
								if i+1 < len(c.Tiers) {
									end = c.Tiers[i+1].AfterIdleDays
								}
								if d > start {
									acc += c.Tiers[i].USDPerGBMonth * (math.Min(d, end) - start)
								}
							}
							s = acc / d
						}
					}
				}
				billedObj := objBytes
				if billedObj < c.MinBillableObjectBytes {
					billedObj = c.MinBillableObjectBytes
				}
				S := n * (billedObj + c.OverheadClassBytes) / gb
				Sdef := n * c.OverheadDefaultBytes / gb
				D := c.MinStorageDays / 30
				factor := 1.0
				if D/life > 1 {
					factor = D / life
				}
				storage := s*S*factor + pr.Classes[pr.DefaultClass].StorageUSDPerGBMonth*Sdef
				B := u.SizeBytes / gb * u.ReadsPerMonth
				Q := n * u.ReadsPerMonth
				reads := c.RetrievalUSDPerGB*B + (c.ReadUSDPer1k+c.RestoreRequestUSDPer1k)*Q/1000
				writes := c.WriteUSDPer1k * n * u.RewritesPerMonth / 1000
				transitions := 0.0
				if cn != pr.DefaultClass && !math.IsInf(life, 1) {
					transitions = c.TransitionInUSDPer1k * n / (1000 * life)
				}
				monitoring := 0.0
				if objBytes >= c.MonitoringMinObjectBytes {
					monitoring = c.MonitoringUSDPer1kObjectsMonth * n / 1000
				}
				want := storage + reads + writes + transitions + monitoring
				// --- end ---

				if math.Abs(got.TotalUSD-want) >= 0.005 || math.Abs(got.TotalUSD-want) > 1e-9*math.Max(1, want) {
					t.Fatalf("%s/%s %+v: CostPerMonth %.6f, independent %.6f", pn, cn, u, got.TotalUSD, want)
				}
				sum := got.StorageUSD + got.MinDurationUSD + got.RetrievalUSD + got.ReadRequestsUSD +
					got.WriteRequestsUSD + got.TransitionUSD + got.MonitoringUSD
				if math.Abs(sum-got.TotalUSD) > 1e-9*math.Max(1, sum) {
					t.Fatalf("%s/%s: components sum to %v, total %v", pn, cn, sum, got.TotalUSD)
				}
				checked++
			}
		}
	}
	t.Logf("%d class costs agree", checked)
}
