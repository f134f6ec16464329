package tiering

import (
	"cmp"
	"slices"
)

// SummaryRow totals recommendations for one provider and one move
// (current class -> recommended class). The row whose classes are AllClasses
// is the provider's total.
type SummaryRow struct {
	Provider          string  `json:"provider"`
	CurrentClass      string  `json:"current_class"`
	RecommendedClass  string  `json:"recommended_class"`
	Assets            int     `json:"assets"` // distinct asset keys
	Rows              int     `json:"rows"`   // assets' own rows and partitions
	SizeGB            float64 `json:"size_gb"`
	CostNowUSDMonth   float64 `json:"cost_now_usd_month"`
	CostAfterUSDMonth float64 `json:"cost_after_usd_month"`
	SavingsUSDMonth   float64 `json:"savings_usd_month"`
	SavingsUSDYear    float64 `json:"savings_usd_year"`
}

// AllClasses marks a provider's total row in Summarize's output.
const AllClasses = "*"

// Summarize totals recommendations per provider and (current, recommended)
// class pair, plus one total row per provider. An asset's own row is left
// out when rows for its partitions are present, because it prices the same
// bytes again.
func Summarize(recs []Recommendation) []SummaryRow {
	type key struct{ provider, asset string }
	partitioned := map[key]bool{}
	for _, r := range recs {
		if r.Partition != "" {
			partitioned[key{r.Provider, r.AssetKey}] = true
		}
	}
	type group struct {
		row    SummaryRow
		assets map[string]bool
	}
	groups := map[[3]string]*group{}
	add := func(k [3]string, r Recommendation) {
		g := groups[k]
		if g == nil {
			g = &group{row: SummaryRow{Provider: k[0], CurrentClass: k[1], RecommendedClass: k[2]}, assets: map[string]bool{}}
			groups[k] = g
		}
		g.assets[r.AssetKey] = true
		g.row.Rows++
		g.row.SizeGB += r.SizeGB
		g.row.CostNowUSDMonth += r.CostNowUSDMonth
		g.row.CostAfterUSDMonth += r.CostRecommendedUSDMonth
		g.row.SavingsUSDMonth += r.SavingsUSDMonth
		g.row.SavingsUSDYear += r.SavingsUSDYear
	}
	for _, r := range recs {
		if r.Partition == "" && partitioned[key{r.Provider, r.AssetKey}] {
			continue
		}
		add([3]string{r.Provider, r.CurrentClass, r.RecommendedClass}, r)
		add([3]string{r.Provider, AllClasses, AllClasses}, r)
	}
	out := make([]SummaryRow, 0, len(groups))
	for _, g := range groups {
		g.row.Assets = len(g.assets)
		out = append(out, g.row)
	}
	slices.SortFunc(out, func(a, b SummaryRow) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider),
			cmp.Compare(a.CurrentClass, b.CurrentClass),
			cmp.Compare(a.RecommendedClass, b.RecommendedClass))
	})
	return out
}
