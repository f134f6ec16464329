package report

import (
	"fmt"
	"time"

	"github.com/matlens/matlens/tiering"
)

// tableData is one section of the text and HTML reports, formatted.
type tableData struct {
	ID, Title string
	Empty     string // said instead of the table when it has no rows
	Cols      []string
	Num       []bool // right-aligned columns
	Rows      [][]string
}

func (t *tableData) add(cells ...string) { t.Rows = append(t.Rows, cells) }

// tables formats the view's sections in the order both reports show them.
func (v *view) tables() []tableData {
	return []tableData{v.summaryTable(), v.recsTable(), v.orphansTable(), v.alertsTable(), v.costsTable(), v.sizesTable(), v.capacityTable()}
}

func (v *view) summaryTable() tableData {
	t := tableData{
		ID: "savings-summary", Title: "Savings summary (USD per month)",
		Empty: "tier_savings_summary is empty.",
		Cols:  []string{"provider", "current class", "recommended class", "assets", "rows", "size GB", "now", "after", "savings", "savings/year"},
		Num:   []bool{false, false, false, true, true, true, true, true, true, true},
	}
	s := v.Summary
	for r := range s.rows {
		cur, rec := s.str(r, "current_class"), s.str(r, "recommended_class")
		if cur == "*" {
			cur, rec = "all", "(total)"
		}
		t.add(s.str(r, "provider"), cur, rec,
			cell("", s.rows[r][s.col("assets")]), cell("", s.rows[r][s.col("objects_rows")]),
			cell("size_gb", s.rows[r][s.col("size_gb")]),
			usd(s.f(r, "cost_now_usd_month")), usd(s.f(r, "cost_after_usd_month")),
			usd(s.f(r, "savings_usd_month")), usd(s.f(r, "savings_usd_year")))
	}
	return t
}

func (v *view) recsTable() tableData {
	t := tableData{
		ID: "top-recommendations", Title: fmt.Sprintf("Top %d recommendations by savings (USD per month)", v.Top),
		Empty: "No move saves money: every asset is already in its cheapest allowed class.",
		Cols:  []string{"asset", "move", "access", "size GB", "size from", "now", "after", "savings", "payback months", "reason"},
		Num:   []bool{false, false, false, true, false, true, true, true, true, false},
	}
	r := v.TopRecs
	for i := range r.rows {
		t.add(r.str(i, "asset_key"), r.str(i, "current_class")+" → "+r.str(i, "recommended_class"),
			r.str(i, "access_category"), cell("size_gb", r.rows[i][r.col("size_gb")]), r.str(i, "size_source"),
			usd(r.f(i, "cost_now_usd_month")), usd(r.f(i, "cost_recommended_usd_month")), usd(r.f(i, "savings_usd_month")),
			payback(r, i), r.str(i, "reason"))
	}
	return t
}

// payback is blank on a partitioned asset's own row: each of its
// partitions' moves pays back on its own.
func payback(r *table, i int) string {
	if r.str(i, "action") == tiering.ActionPerPartition {
		return ""
	}
	return cell("payback_months", r.rows[i][r.col("payback_months")])
}

func (v *view) orphansTable() tableData {
	t := tableData{
		ID: "orphaned-objects", Title: fmt.Sprintf("Orphaned objects and old versions: top %d of each kind by savings (USD per month)", v.Top),
		Empty: "No orphaned objects: no object store is loaded (`matlens objects load`), or every billed object under Dagster's prefixes is an asset's current one.",
		Cols:  []string{"prefix", "reason", "class", "objects", "size GB", "newest", "cost", "action", "savings"},
		Num:   []bool{false, false, false, true, true, false, true, false, true},
	}
	o := v.Orphans
	for r := range o.rows {
		newest := ""
		if ts, ok := o.rows[r][o.col("newest_modified")].(time.Time); ok {
			newest = ts.UTC().Format("2006-01-02")
		}
		t.add(o.str(r, "prefix"), o.str(r, "reason"), o.str(r, "storage_class"), cell("", o.rows[r][o.col("objects")]),
			cell("size_gb", o.rows[r][o.col("size_gb")]), newest, usd(o.f(r, "cost_usd_month")),
			o.str(r, "action"), usd(o.f(r, "savings_usd_month")))
	}
	return t
}

func (v *view) sizesTable() tableData {
	t := tableData{
		ID: "size-sources", Title: "Where sizes come from (whole assets)",
		Empty: "asset_stats holds no asset.",
		Cols:  []string{"size from", "assets", "size GB"},
		Num:   []bool{false, true, true},
	}
	s := v.Sizes
	for r := range s.rows {
		t.add(s.str(r, "size_source"), cell("", s.rows[r][s.col("assets")]), cell("size_gb", s.rows[r][s.col("size_gb")]))
	}
	return t
}

func (v *view) alertsTable() tableData {
	t := tableData{
		ID: "alerts", Title: "Alerts",
		Empty: "No alerts: no execution-time spike, no regression, no success rate below the threshold.",
		Cols:  []string{"severity", "asset", "kind", "value", "threshold", "message"},
		Num:   []bool{false, false, false, true, true, false},
	}
	a := v.Alerts
	for r := range a.rows {
		t.add(a.str(r, "severity"), a.str(r, "asset_key"), a.str(r, "kind"),
			num(a.f(r, "value")), num(a.f(r, "threshold")), a.str(r, "message"))
	}
	return t
}

func (v *view) costsTable() tableData {
	t := tableData{
		ID: "asset-costs", Title: fmt.Sprintf("Top %d assets by cost (USD per month: storage on %s, compute)", v.Top, v.Provider),
		Empty: "No asset has a cost yet.",
		Cols:  []string{"asset", "rows", "size GB", "storage now", "storage after", "savings", "compute", "total now"},
		Num:   []bool{false, true, true, true, true, true, true, true},
	}
	for i, a := range v.AssetCosts {
		if i == v.Top {
			break
		}
		compute := "unknown"
		if a.ComputeKnown {
			compute = usd(a.Compute)
		}
		t.add(a.Asset, fmt.Sprint(a.Rows), fmt.Sprintf("%.2f", a.SizeGB),
			usd(a.CostNow), usd(a.CostAfter), usd(a.Savings), compute, usd(a.totalNow()))
	}
	return t
}

func (v *view) capacityTable() tableData {
	t := tableData{
		ID: "capacity-plan", Title: "Capacity plan (deployment totals)",
		Empty: "capacity_plan holds no totals.",
		Cols:  []string{"section", "item", "value", "detail"},
		Num:   []bool{false, false, true, false},
	}
	c := v.Capacity
	for r := range c.rows {
		item := c.str(r, "item")
		if cat := c.str(r, "category"); cat != "" {
			item = cat + " " + item
		}
		t.add(c.str(r, "section"), item, capacityValue(c.rows[r][c.col("value")], c.str(r, "unit")), c.str(r, "detail"))
	}
	return t
}

// Last is the index of the last column: free text (reason, message,
// detail) that may wrap, while the figures stay on one line.
func (t tableData) Last() int { return len(t.Cols) - 1 }
